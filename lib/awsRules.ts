/**
 * The AWS APIs' and the providers' own rules on what a deployment registers, as pure functions: character sets
 * and lengths the APIs enforce only when `pulumi up` calls them (a preview does not), and the resource fields
 * the providers document as causing a perpetual diff, a stop/start or a replacement. Each rule cites its source.
 *
 * Used by the unit tests on the offline plan of every stack (test/awsRules.test.ts) and exported as plain
 * functions so that a CrossGuard policy can call them on a resource's inputs. Nothing here imports Pulumi.
 */

/** A registered resource as a plan or a policy sees it. */
export interface PlannedResource {
    /** Type token, e.g. `aws:ec2/securityGroup:SecurityGroup`. */
    readonly type: string;
    /** Logical (Pulumi) name. */
    readonly name: string;
    /** Provider id, where known (the offline plan invents it). */
    readonly id?: string;
    /** Inputs; values may still be wrapped in Pulumi's secret marker. */
    readonly inputs: Readonly<Record<string, unknown>>;
    /** Resource options that change how the engine diffs it. */
    readonly opts?: { readonly ignoreChanges?: readonly string[] };
}

/** One broken rule on one resource. */
export interface Violation {
    readonly rule: string;
    readonly resource: string;
    readonly message: string;
}

/** A rule: which resource types it reads, where it comes from, and its check. */
export interface AwsRule {
    readonly id: string;
    readonly description: string;
    /** The AWS or provider document the rule is taken from. */
    readonly source: string;
    readonly types: readonly string[] | "aws:*";
    /** Problems of one resource (empty when it complies); `plan` is every resource, for rules that cross-reference. */
    check(r: PlannedResource, plan: readonly PlannedResource[]): string[];
}

/** Pulumi's secret marker (`specialSigKey`/`specialSecretSig` in @pulumi/pulumi runtime/rpc). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A deep copy with secret markers removed (the rules judge the value, secret or not). */
export function plainValue(v: unknown): unknown {
    if (v !== null && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG) return plainValue((v as { value: unknown }).value);
    if (Array.isArray(v)) return v.map(plainValue);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
    return v;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const q = (s: string) => JSON.stringify(s);

/**
 * The name the provider gives a resource whose name input is unset: the logical name, `-`, 7 random hex digits
 * (pulumi-terraform-bridge `AutoName`, `resource.NewUniqueHex`); S3 bucket names are lower-cased first.
 */
export function autoName(logicalName: string, lower = false): string {
    return `${lower ? logicalName.toLowerCase() : logicalName}-abcdef0`;
}

// --- EC2 security groups --------------------------------------------------------------------------------------

/**
 * EC2 API Reference, CreateSecurityGroup (GroupName, GroupDescription) and IpRange/IpPermission Description:
 * "Up to 255 characters in length. Constraints for EC2-VPC: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*".
 * A group name cannot start with `sg-`.
 */
const EC2_TEXT = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

/** Problems of one security-group name, description or rule description (`what` names the field). */
export function ec2SecurityGroupTextProblems(what: string, text: string, opts: { name?: boolean } = {}): string[] {
    const p: string[] = [];
    if (text.length > 255) p.push(`${what} is ${text.length} characters: EC2 allows at most 255`);
    const bad = [...new Set([...text].filter((c) => !EC2_TEXT.test(c)))];
    if (bad.length) p.push(`${what} ${q(text)} has ${bad.map(q).join(", ")}: EC2 allows only a-z A-Z 0-9 space and ._-:/()#,@[]+=&;{}!$*`);
    if (opts.name && text.startsWith("sg-")) p.push(`${what} ${q(text)} starts with sg-, which EC2 reserves for group ids`);
    if (opts.name && text.length === 0) p.push(`${what} is empty`);
    return p;
}

export const securityGroupText: AwsRule = {
    id: "ec2-security-group-text",
    description: "Security-group names, descriptions and rule descriptions use EC2's character set and length",
    source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html, API_IpRange.html",
    types: ["aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"],
    check(r) {
        const i = plainValue(r.inputs) as Record<string, unknown>;
        const p: string[] = [];
        if (r.type === "aws:ec2/securityGroup:SecurityGroup") {
            const name = str(i.name) ?? (str(i.namePrefix) ? `${i.namePrefix}${"0".repeat(26)}` : autoName(r.name));
            p.push(...ec2SecurityGroupTextProblems("name", name, { name: true }));
            // The provider's default description is "Managed by Pulumi", which complies.
            if (str(i.description) !== undefined) p.push(...ec2SecurityGroupTextProblems("description", i.description as string));
            for (const dir of ["ingress", "egress"]) {
                for (const [n, rule] of ((i[dir] as Record<string, unknown>[] | undefined) ?? []).entries()) {
                    if (str(rule.description) !== undefined) p.push(...ec2SecurityGroupTextProblems(`${dir}[${n}].description`, rule.description as string));
                }
            }
        } else if (str(i.description) !== undefined) {
            p.push(...ec2SecurityGroupTextProblems("description", i.description as string));
        }
        return p;
    },
};

// --- IAM -------------------------------------------------------------------------------------------------------

/** IAM API Reference: RoleName 1-64, PolicyName and InstanceProfileName 1-128, all of pattern `[\w+=,.@-]+`. */
const IAM_NAME = /^[\w+=,.@-]+$/;
/** IAM API Reference, CreateRole/CreatePolicy Description: at most 1000 of `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]`. */
const IAM_DESCRIPTION = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;

/** Problems of an IAM role, policy or instance-profile name (`max` 64 for roles, 128 otherwise). */
export function iamNameProblems(what: string, name: string, max: number): string[] {
    const p: string[] = [];
    if (name.length < 1 || name.length > max) p.push(`${what} ${q(name)} is ${name.length} characters: IAM allows 1 to ${max}`);
    if (!IAM_NAME.test(name)) p.push(`${what} ${q(name)}: IAM allows only letters, digits and +=,.@_-`);
    return p;
}

/** Problems of an IAM description. */
export function iamDescriptionProblems(description: string): string[] {
    const p: string[] = [];
    if (description.length > 1000) p.push(`description is ${description.length} characters: IAM allows at most 1000`);
    if (!IAM_DESCRIPTION.test(description)) p.push(`description ${q(description)} has characters outside IAM's set (tab, newline, printable ASCII, U+00A1-U+00FF)`);
    return p;
}

const IAM_MAX: Record<string, number> = {
    "aws:iam/role:Role": 64,
    "aws:iam/policy:Policy": 128,
    "aws:iam/rolePolicy:RolePolicy": 128,
    "aws:iam/instanceProfile:InstanceProfile": 128,
};

export const iamNames: AwsRule = {
    id: "iam-names",
    description: "IAM role, policy and instance-profile names and descriptions fit IAM's pattern and length",
    source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html, API_CreatePolicy.html, API_PutRolePolicy.html, API_CreateInstanceProfile.html",
    types: Object.keys(IAM_MAX),
    check(r) {
        const i = plainValue(r.inputs) as Record<string, unknown>;
        const max = IAM_MAX[r.type];
        const name = str(i.name) ?? (str(i.namePrefix) ? `${i.namePrefix}${"0".repeat(26)}` : autoName(r.name));
        const p = iamNameProblems("name", name, max);
        if (str(i.description) !== undefined) p.push(...iamDescriptionProblems(i.description as string));
        return p;
    },
};

// --- S3 --------------------------------------------------------------------------------------------------------

/**
 * S3 User Guide, "General purpose bucket naming rules": 3-63 characters; lower-case letters, digits, dots and
 * hyphens; begins and ends with a letter or digit; no two adjacent dots; not an IP address; not prefixed
 * `xn--`, `sthree-` or `amzn-s3-demo-`; not suffixed `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3` or `--table-s3`.
 */
export function s3BucketNameProblems(name: string): string[] {
    const p: string[] = [];
    if (name.length < 3 || name.length > 63) p.push(`bucket ${q(name)} is ${name.length} characters: S3 allows 3 to 63`);
    if (!/^[a-z0-9.-]*$/.test(name)) p.push(`bucket ${q(name)}: S3 allows only lower-case letters, digits, dots and hyphens`);
    if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) p.push(`bucket ${q(name)} must begin and end with a letter or digit`);
    if (name.includes("..")) p.push(`bucket ${q(name)} has two adjacent dots`);
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) p.push(`bucket ${q(name)} is formatted as an IP address`);
    for (const pre of ["xn--", "sthree-", "amzn-s3-demo-"]) if (name.startsWith(pre)) p.push(`bucket ${q(name)} starts with the reserved ${pre}`);
    for (const suf of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) if (name.endsWith(suf)) p.push(`bucket ${q(name)} ends with the reserved ${suf}`);
    return p;
}

export const s3BucketNames: AwsRule = {
    id: "s3-bucket-names",
    description: "S3 bucket names follow the general purpose bucket naming rules",
    source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
    types: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    check(r) {
        const i = plainValue(r.inputs) as Record<string, unknown>;
        return s3BucketNameProblems(str(i.bucket) ?? (str(i.bucketPrefix) ? `${i.bucketPrefix}${"0".repeat(26)}` : autoName(r.name, true)));
    },
};

// --- SSM -------------------------------------------------------------------------------------------------------

/**
 * Systems Manager User Guide, "Parameter naming requirements" and PutParameter: names use a-zA-Z0-9_.- and `/`
 * for hierarchy, a name with `/` is fully qualified (starts with `/`), at most 15 levels, at most 1011
 * characters, and no name (or first level) starts with `aws` or `ssm`, in any case. A Standard-tier value is at
 * most 4 KB (Advanced: 8 KB).
 */
export function ssmParameterNameProblems(name: string): string[] {
    const p: string[] = [];
    if (name.length < 1 || name.length > 1011) p.push(`parameter ${q(name)} is ${name.length} characters: SSM allows 1 to 1011`);
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) p.push(`parameter ${q(name)}: SSM allows only a-zA-Z0-9_.- and /`);
    if (name.includes("/") && !name.startsWith("/")) p.push(`parameter ${q(name)} has a hierarchy but does not start with /`);
    if (name.split("/").filter(Boolean).length > 15) p.push(`parameter ${q(name)} is deeper than SSM's 15 levels`);
    if (/^\/?(aws|ssm)/i.test(name)) p.push(`parameter ${q(name)} starts with aws or ssm, which SSM reserves`);
    return p;
}

/** Size of a Standard (default) or Advanced SSM parameter value, in bytes. */
export function ssmParameterValueProblems(value: string, tier: string | undefined): string[] {
    const max = tier === "Advanced" ? 8192 : 4096;
    const size = Buffer.byteLength(value, "utf8");
    return size > max ? [`value is ${size} bytes: a ${tier ?? "Standard"} parameter holds at most ${max}`] : [];
}

/** Systems Manager API Reference, CreateDocument/CreateAssociation Name: `^[a-zA-Z0-9_\-.]{3,128}$`; documents not prefixed aws, amazon or amzn. */
export function ssmDocumentNameProblems(what: string, name: string, opts: { document?: boolean } = {}): string[] {
    const p: string[] = [];
    if (!/^[a-zA-Z0-9_\-.]{3,128}$/.test(name)) p.push(`${what} ${q(name)}: SSM allows 3 to 128 of a-zA-Z0-9_-.`);
    if (opts.document && /^(aws|amazon|amzn)/i.test(name)) p.push(`${what} ${q(name)} starts with a prefix SSM reserves (aws, amazon, amzn)`);
    return p;
}

export const ssmNames: AwsRule = {
    id: "ssm-names",
    description: "SSM parameter, document and association names, and parameter value sizes, fit SSM's limits",
    source: "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html, https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html",
    types: ["aws:ssm/parameter:Parameter", "aws:ssm/document:Document", "aws:ssm/association:Association"],
    check(r) {
        const i = plainValue(r.inputs) as Record<string, unknown>;
        if (r.type === "aws:ssm/parameter:Parameter") {
            const p = ssmParameterNameProblems(str(i.name) ?? r.name);
            const value = str(i.value) ?? str(i.insecureValue);
            if (value !== undefined) p.push(...ssmParameterValueProblems(value, str(i.tier)));
            return p;
        }
        if (r.type === "aws:ssm/document:Document") return ssmDocumentNameProblems("document", str(i.name) ?? r.name, { document: true });
        return str(i.associationName) !== undefined ? ssmDocumentNameProblems("association name", i.associationName as string) : [];
    },
};

// --- KMS -------------------------------------------------------------------------------------------------------

/** KMS API Reference, CreateAlias AliasName: 1-256 of `^[a-zA-Z0-9:/_-]+$`, beginning `alias/`, never `alias/aws/`. */
export function kmsAliasProblems(name: string): string[] {
    const p: string[] = [];
    if (name.length < 1 || name.length > 256) p.push(`alias ${q(name)} is ${name.length} characters: KMS allows 1 to 256`);
    if (!/^[a-zA-Z0-9:/_-]+$/.test(name)) p.push(`alias ${q(name)}: KMS allows only a-zA-Z0-9:/_-`);
    if (!name.startsWith("alias/")) p.push(`alias ${q(name)} must begin with alias/`);
    if (name.startsWith("alias/aws/")) p.push(`alias ${q(name)}: alias/aws/ is reserved for AWS managed keys`);
    return p;
}

export const kmsAliases: AwsRule = {
    id: "kms-alias-names",
    description: "KMS alias names fit CreateAlias's pattern",
    source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
    types: ["aws:kms/alias:Alias"],
    check(r) {
        const i = plainValue(r.inputs) as Record<string, unknown>;
        return kmsAliasProblems(str(i.name) ?? (str(i.namePrefix) ? `${i.namePrefix}${"0".repeat(26)}` : autoName(r.name)));
    },
};

// --- Tags ------------------------------------------------------------------------------------------------------

/**
 * Tagging AWS Resources User Guide, "Tag naming limits and requirements": at most 50 user tags; keys 1-128 and
 * values 0-256 Unicode characters of letters, digits, spaces and `_.:/=+-@`; the `aws:` prefix is reserved.
 */
export function tagProblems(tags: Record<string, unknown>): string[] {
    const p: string[] = [];
    const ok = /^[\p{L}\p{N}\s_.:/=+\-@]*$/u;
    const entries = Object.entries(tags);
    if (entries.length > 50) p.push(`${entries.length} tags: AWS allows at most 50`);
    for (const [k, v] of entries) {
        const value = String(v ?? "");
        if (k.length < 1 || [...k].length > 128) p.push(`tag key ${q(k)} is ${[...k].length} characters: AWS allows 1 to 128`);
        if (!ok.test(k)) p.push(`tag key ${q(k)}: AWS allows letters, digits, spaces and _.:/=+-@`);
        if (/^aws:/i.test(k)) p.push(`tag key ${q(k)}: the aws: prefix is reserved`);
        if ([...value].length > 256) p.push(`tag ${q(k)} value is ${[...value].length} characters: AWS allows at most 256`);
        if (!ok.test(value)) p.push(`tag ${q(k)} value ${q(value)}: AWS allows letters, digits, spaces and _.:/=+-@`);
    }
    return p;
}

export const tags: AwsRule = {
    id: "aws-tags",
    description: "Tags fit AWS's tag limits and character set",
    source: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
    types: "aws:*",
    check(r) {
        const t = plainValue(r.inputs.tags);
        return t !== null && typeof t === "object" ? tagProblems(t as Record<string, unknown>) : [];
    },
};

// --- EC2 user data ---------------------------------------------------------------------------------------------

/**
 * Problems of an instance's user data. EC2 User Guide: "User data is limited to 16 KB, in raw form, before it is
 * base64-encoded". @pulumi/aws `ec2.Instance` `userData`/`userDataBase64`: "Updates to this field will trigger a
 * stop/start of the EC2 instance by default. If the `userDataReplaceOnChange` is set then updates to this field
 * will trigger a destroy and recreate". A stop/start takes every host whose user data changed down in the same
 * update (and cloud-init's first-boot modules do not re-run on the same instance id), so user data must be in
 * `ignoreChanges`, except on the one host being rolled by replacement (`userDataReplaceOnChange: true`).
 * `rolling` is how many hosts of the plan take their user data in this update.
 */
export function userDataProblems(inputs: Record<string, unknown>, ignoreChanges: readonly string[] = [], rolling = 1): string[] {
    const p: string[] = [];
    const i = plainValue(inputs) as Record<string, unknown>;
    for (const field of ["userData", "userDataBase64"]) {
        const v = str(i[field]);
        if (v === undefined) continue;
        const raw = field === "userData" ? Buffer.byteLength(v, "utf8") : Buffer.from(v, "base64").length;
        if (raw > 16384) p.push(`${field} is ${raw} bytes: EC2 allows at most 16384 (16 KB) before base64`);
        if (ignoreChanges.includes(field)) continue;
        if (i.userDataReplaceOnChange !== true) p.push(`${field} is not in ignoreChanges: a change stops and starts every instance at once`);
        else if (rolling > 1) p.push(`${field} is not in ignoreChanges on ${rolling} instances: a change replaces all of them in one update`);
    }
    return p;
}

/** Whether an instance takes user-data changes in this update (not ignored). */
const takesUserData = (r: PlannedResource) =>
    ["userData", "userDataBase64"].some((f) => r.inputs[f] !== undefined && !(r.opts?.ignoreChanges ?? []).includes(f));

export const userData: AwsRule = {
    id: "ec2-user-data",
    description: "Instance user data fits 16 KB and is ignored on update, except on the one host rolled by replacement",
    source: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html; @pulumi/aws ec2/instance.d.ts userData, userDataReplaceOnChange",
    types: ["aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate"],
    check(r, plan) {
        const rolling = plan.filter((x) => x.type === r.type && takesUserData(x)).length;
        return userDataProblems(r.inputs as Record<string, unknown>, r.opts?.ignoreChanges, rolling);
    },
};

// --- Docker Swarm services -------------------------------------------------------------------------------------

/**
 * Problems of a Swarm service's network attachments. @pulumi/docker 5.2 `ServiceTaskSpecNetworksAdvanced.id`:
 * "Please use `docker_network.id`. Using the name attribute of the docker network will lead to constant
 * replacements" (the provider reads the attachment back as the network's id). With the plan's network ids at
 * hand, an id must be one of them.
 */
export function swarmNetworkAttachmentProblems(inputs: Record<string, unknown>, networkIds?: ReadonlySet<string>): string[] {
    const p: string[] = [];
    const spec = (plainValue(inputs) as Record<string, Record<string, unknown> | undefined>).taskSpec;
    for (const [n, net] of ((spec?.networksAdvanceds as Record<string, unknown>[] | undefined) ?? []).entries()) {
        if (net.name !== undefined) p.push(`taskSpec.networksAdvanceds[${n}] attaches by name ${q(String(net.name))}: attach by the network's id, or every update replaces the service`);
        else if (typeof net.id !== "string") p.push(`taskSpec.networksAdvanceds[${n}] has no network id`);
        else if (networkIds && !networkIds.has(net.id)) p.push(`taskSpec.networksAdvanceds[${n}].id ${q(net.id)} is not the id of a network in this plan`);
    }
    return p;
}

export const swarmNetworkAttachments: AwsRule = {
    id: "swarm-network-by-id",
    description: "Swarm services attach networks by the network resource's id",
    source: "@pulumi/docker 5.2.0 types/input.d.ts ServiceTaskSpecNetworksAdvanced",
    types: ["docker:index/service:Service"],
    check(r, plan) {
        const ids = new Set(plan.filter((x) => x.type === "docker:index/network:Network" && x.id).map((x) => x.id!));
        return swarmNetworkAttachmentProblems(r.inputs as Record<string, unknown>, ids.size ? ids : undefined);
    },
};

// --- The whole plan --------------------------------------------------------------------------------------------

/** Every rule, in the order violations are reported. */
export const AWS_RULES: readonly AwsRule[] = [securityGroupText, iamNames, s3BucketNames, ssmNames, kmsAliases, tags, userData, swarmNetworkAttachments];

/** Every violation of every rule in `plan`. */
export function checkPlan(plan: readonly PlannedResource[], rules: readonly AwsRule[] = AWS_RULES): Violation[] {
    const out: Violation[] = [];
    for (const rule of rules) {
        for (const r of plan) {
            const applies = rule.types === "aws:*" ? r.type.startsWith("aws:") : rule.types.includes(r.type);
            if (!applies) continue;
            for (const message of rule.check(r, plan)) out.push({ rule: rule.id, resource: `${r.type}::${r.name}`, message });
        }
    }
    return out;
}
