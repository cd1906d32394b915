/**
 * Compute and identity policies: EC2 hosts (IMDSv2, encrypted volumes, public addresses only on the edge, user
 * data that never stops a host), IAM (no `*` on `*`, names and descriptions as IAM accepts them), SSM parameter
 * names and AWS tags within the API's character sets and lengths.
 */
import { forStackType, forType, Props, ResourcePolicy, StackPolicy, TYPES } from "./support";

export const ec2Imdsv2: ResourcePolicy = {
    name: "ec2-imdsv2",
    description: "EC2 hosts require IMDSv2 session tokens, with a hop limit that keeps containers off the metadata service.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set metadataOptions { httpTokens: \"required\", httpPutResponseHopLimit: 1 } (2 where a container needs the host role).",
    // 2: WAL-G in Spilo, the RDB copy and Traefik's DNS-01 use the host's role from a container (one extra hop).
    configSchema: { properties: { maxHopLimit: { type: "integer", minimum: 1, maximum: 64, default: 2 } } },
    validateResource: forType(TYPES.instance, (p, args, report) => {
        const { maxHopLimit } = args.getConfig<{ maxHopLimit: number }>();
        const m = p.metadataOptions ?? {};
        if (m.httpEndpoint === "disabled") return;
        if (m.httpTokens !== "required") report(`metadataOptions.httpTokens is ${JSON.stringify(m.httpTokens ?? "optional (default)")}, not "required"`);
        const hops = Number(m.httpPutResponseHopLimit ?? 1);
        if (hops > maxHopLimit) report(`metadataOptions.httpPutResponseHopLimit ${hops} exceeds ${maxHopLimit}: containers could reach the instance credentials`);
    }),
};

export const ec2VolumesEncrypted: ResourcePolicy = {
    name: "ec2-volumes-encrypted",
    description: "Every EBS volume of an EC2 host is encrypted.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set encrypted: true on rootBlockDevice and every ebsBlockDevices entry.",
    validateResource: [
        forType(TYPES.instance, (p, _args, report) => {
            if (p.rootBlockDevice?.encrypted !== true) report("rootBlockDevice.encrypted is not true");
            ((p.ebsBlockDevices ?? []) as Props[]).forEach((d, i) => {
                if (d.encrypted !== true) report(`ebsBlockDevices[${i}] (${d.deviceName ?? "?"}) is not encrypted`);
            });
        }),
        forType("aws:ebs/volume:Volume", (p, _args, report) => {
            if (p.encrypted !== true) report("encrypted is not true");
        }),
    ],
};

export const ec2PublicIpEdgeOnly: ResourcePolicy = {
    name: "ec2-public-ip-edge-only",
    description: "Only edge hosts get a public IP address; every other host is reachable only inside the VPC.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set associatePublicIpAddress: false and a private subnet for hosts that are not tagged role=edge.",
    configSchema: { properties: { edgeRoleTag: { type: "string", default: "edge" } } },
    validateResource: forType(TYPES.instance, (p, args, report) => {
        const { edgeRoleTag } = args.getConfig<{ edgeRoleTag: string }>();
        if (p.associatePublicIpAddress === true && p.tags?.role !== edgeRoleTag) {
            report(`a ${p.tags?.role ?? "untagged"} host has associatePublicIpAddress true; only role=${edgeRoleTag} hosts may`);
        }
    }),
};

export const ec2UserDataNoRestart: ResourcePolicy = {
    name: "ec2-user-data-no-restart",
    description: "A change of an EC2 host's user data never stops and starts the host (the AWS provider does so in place).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add userData to the instance's ignoreChanges and roll user-data changes one host at a time (SSM).",
    configSchema: { properties: { allowReplaceOnChange: { type: "boolean", default: false } } },
    validateResource: forType(TYPES.instance, (p, args, report) => {
        if (p.userData === undefined && p.userDataBase64 === undefined) return;
        const { allowReplaceOnChange } = args.getConfig<{ allowReplaceOnChange: boolean }>();
        const ignored = (args.opts?.ignoreChanges ?? []).some((k) => k === "userData" || k === "userDataBase64");
        if (ignored) return;
        if (p.userDataReplaceOnChange === true && allowReplaceOnChange) return;
        report(
            p.userDataReplaceOnChange === true
                ? "userDataReplaceOnChange replaces every host of the pool at once on a user-data change"
                : "user data is not in ignoreChanges: the AWS provider stops and starts the host on every user-data change",
        );
    }),
};

/** Statements of an IAM policy document (a JSON string or object); [] when unparsable. */
export function statements(doc: unknown): Props[] {
    try {
        const d = typeof doc === "string" ? JSON.parse(doc) : doc;
        return ([] as Props[]).concat((d as Props)?.Statement ?? []);
    } catch {
        return [];
    }
}

/** True when a statement allows every action on every resource. */
export function allowsStarOnStar(s: Props): boolean {
    const actions = ([] as string[]).concat(s.Action ?? []);
    const resources = ([] as string[]).concat(s.Resource ?? []);
    return s.Effect === "Allow" && actions.includes("*") && resources.includes("*") && s.NotAction === undefined;
}

export const iamNoStarOnStar: ResourcePolicy = {
    name: "iam-no-star-on-star",
    description: "No IAM policy allows every action (*) on every resource (*).",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "List the actions and resource ARNs the role needs.",
    validateResource: [
        ...[TYPES.iamRolePolicy, TYPES.iamPolicy].map((t) =>
            forType(t, (p, _args, report) => {
                statements(p.policy).forEach((s, i) => allowsStarOnStar(s) && report(`statement ${s.Sid ?? i} allows * on *`));
            }),
        ),
        forType(TYPES.iamRole, (p, _args, report) => {
            for (const ip of (p.inlinePolicies ?? []) as Props[]) {
                statements(ip.policy).forEach((s, i) => allowsStarOnStar(s) && report(`inline policy ${ip.name ?? "?"} statement ${s.Sid ?? i} allows * on *`));
            }
        }),
    ],
};

const IAM_NAME = /^[\w+=,.@-]+$/;
/** IAM's description character set (CreateRole, CreatePolicy). */
const IAM_DESCRIPTION = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;

export const iamTextValid: ResourcePolicy = {
    name: "iam-text-valid",
    description: "IAM role, policy and instance profile names and descriptions are within IAM's character sets and lengths.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Names: [A-Za-z0-9+=,.@_-], roles at most 64 characters, others 128; descriptions at most 1000 printable Latin-1 characters.",
    validateResource: [
        ...([
            [TYPES.iamRole, 64],
            [TYPES.iamRolePolicy, 128],
            [TYPES.iamPolicy, 128],
            ["aws:iam/instanceProfile:InstanceProfile", 128],
        ] as const).map(([t, max]) =>
            forType(t, (p, _args, report) => {
                if (typeof p.name === "string" && (!IAM_NAME.test(p.name) || p.name.length > max)) {
                    report(`name ${JSON.stringify(p.name)} must be 1-${max} characters of [A-Za-z0-9+=,.@_-]`);
                }
                if (typeof p.description === "string" && (!IAM_DESCRIPTION.test(p.description) || p.description.length > 1000)) {
                    report(`description ${JSON.stringify(p.description.slice(0, 80))} must be at most 1000 printable Latin-1 characters`);
                }
            }),
        ),
    ],
};

export const ssmParameterName: ResourcePolicy = {
    name: "ssm-parameter-name",
    description: "SSM parameter names use [a-zA-Z0-9_.-/], at most 15 levels and 1011 characters, never the aws/ssm prefixes.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Rename the parameter to /<levels of [a-zA-Z0-9_.-]>, at most 15 levels.",
    validateResource: forType(TYPES.ssmParameter, (p, _args, report) => {
        const name = p.name;
        if (typeof name !== "string") return;
        if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) report(`name ${JSON.stringify(name)} has characters outside a-zA-Z0-9_.-/`);
        if (name.length > 1011) report(`name is ${name.length} characters (at most 1011)`);
        if (name.split("/").filter(Boolean).length > 15) report("name has more than 15 levels");
        if (/^\/?(aws|ssm)/i.test(name)) report(`name ${JSON.stringify(name)} starts with aws or ssm, which SSM reserves`);
    }),
};

/** AWS's tag rules: keys 1-128, values 0-256, letters, digits, spaces and _ . : / = + - @, no aws: prefix. */
export function tagProblems(tags: Props): string[] {
    const ok = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
    const problems: string[] = [];
    for (const [k, v] of Object.entries(tags)) {
        if (k.length < 1 || k.length > 128 || !ok.test(k)) problems.push(`tag key ${JSON.stringify(k)} is not 1-128 allowed characters`);
        if (/^aws:/i.test(k)) problems.push(`tag key ${JSON.stringify(k)} uses the reserved aws: prefix`);
        if (typeof v === "string" && (v.length > 256 || !ok.test(v))) problems.push(`tag ${k} value ${JSON.stringify(v.slice(0, 60))} is not 0-256 allowed characters`);
    }
    return problems;
}

export const awsTagsValid: ResourcePolicy = {
    name: "aws-tags-valid",
    description: "AWS tags are within the tagging API's character set and lengths.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Use letters, digits, spaces and _ . : / = + - @ only; keys up to 128, values up to 256 characters.",
    validateResource: (args, report) => {
        if (!args.type.startsWith("aws:")) return;
        const tags = (args.props as Props).tags;
        if (tags && typeof tags === "object") for (const p of tagProblems(tags)) report(p);
    },
};

/**
 * No `up` may replace more than one Swarm manager or more than one data host: replacing all three managers at once
 * takes the Swarm from 3 to 6 managers and then loses 3 (no quorum); replacing all data hosts loses every copy of
 * etcd, Postgres and Redis together. The engine refuses to replace (or delete) a protected resource
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go: `new.Protect && old.Protect` -> "unable to replace resource
 * ... as it is currently marked for protection"), so at most the unprotected hosts can be replaced in one update.
 * A policy sees each resource's `protect` (the analyzer's resource options), not the diff: it bounds the unprotected
 * ones. The plan diff (offline/diff.ts) checks the replacements themselves.
 */
export const swarmHostsRollOneAtATime: StackPolicy = {
    name: "swarm-hosts-roll-one-at-a-time",
    description: "At most one Swarm manager and one data host are unprotected, so no update replaces more than one of each.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Protect every Swarm host (protect: true) except the one rollHost being replaced in this update.",
    configSchema: { properties: { maxManagers: { type: "integer", minimum: 0, default: 1 }, maxDataHosts: { type: "integer", minimum: 0, default: 1 } } },
    validateStack: forStackType(TYPES.instance, (rs, args, report) => {
        const { maxManagers, maxDataHosts } = args.getConfig<{ maxManagers: number; maxDataHosts: number }>();
        const open = rs.filter((r) => r.opts?.protect !== true);
        const tags = (r: (typeof rs)[number]) => ((r.props as Props).tags ?? {}) as Record<string, string>;
        const managers = open.filter((r) => tags(r).swarm === "manager").map((r) => r.name);
        const data = open.filter((r) => tags(r).role === "data").map((r) => r.name);
        if (managers.length > maxManagers) report(`${managers.length} Swarm managers are unprotected (${managers.join(", ")}): one update could replace them together and lose the Raft quorum; at most ${maxManagers}`);
        if (data.length > maxDataHosts) report(`${data.length} data hosts are unprotected (${data.join(", ")}): one update could replace them together and lose every copy of the data; at most ${maxDataHosts}`);
    }),
};

export const computePolicies = [ec2Imdsv2, ec2VolumesEncrypted, ec2PublicIpEdgeOnly, ec2UserDataNoRestart, iamNoStarOnStar, iamTextValid, ssmParameterName, awsTagsValid, swarmHostsRollOneAtATime];
