/**
 * Network policies: what the internet may reach (only 80/443, only on the edge), no SSH from the world, and
 * security group names and descriptions within EC2's character set and length.
 */
import { forType, props, Props, resourcesOf, ResourcePolicy, StackPolicy, TYPES } from "./support";

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

/** True when the rule's source is the whole internet. */
export function fromWorld(rule: Props): boolean {
    return WORLD.has(String(rule.cidrIpv4 ?? "")) || WORLD.has(String(rule.cidrIpv6 ?? "")) ||
        ([] as string[]).concat(rule.cidrBlocks ?? [], rule.ipv6CidrBlocks ?? []).some((c) => WORLD.has(c));
}

/** True when the rule admits TCP `port` ("-1" is every protocol and port). */
export function admitsPort(rule: Props, port: number): boolean {
    const proto = String(rule.ipProtocol ?? rule.protocol ?? "");
    if (proto === "-1" || proto === "all") return true;
    if (proto !== "tcp" && proto !== "6") return false;
    const from = Number(rule.fromPort ?? 0);
    const to = Number(rule.toPort ?? 65535);
    return from <= port && port <= to;
}

/** Ingress rules of a stack: the standalone rule resources and any inline `ingress` of a security group. */
function ingressRules(rs: { type: string; props: unknown; urn: string; name: string }[]): { rule: Props; sgId: unknown; urn: string; name: string }[] {
    const out: { rule: Props; sgId: unknown; urn: string; name: string }[] = [];
    for (const r of rs) {
        const p = props(r);
        if (r.type === TYPES.ingressRule) out.push({ rule: p, sgId: p.securityGroupId, urn: r.urn, name: r.name });
        if (r.type === TYPES.securityGroup) for (const i of (p.ingress ?? []) as Props[]) out.push({ rule: i, sgId: p.id, urn: r.urn, name: r.name });
    }
    return out;
}

export const sgWorldOnlyWebOnEdge: StackPolicy = {
    name: "sg-world-only-web-on-edge",
    description: "Nothing is open to the internet except TCP 80 and 443, and only on the edge hosts' security group.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Restrict the rule's source to the VPC, a peer CIDR, the admin CIDR or a security group; only the edge SG serves 80/443.",
    configSchema: {
        properties: {
            allowedPorts: { type: "array", items: { type: "integer" }, default: [80, 443] },
            edgeRoleTag: { type: "string", default: "edge" },
        },
    },
    validateStack: (args, report) => {
        const { allowedPorts, edgeRoleTag } = args.getConfig<{ allowedPorts: number[]; edgeRoleTag: string }>();
        const sgs = resourcesOf(args, TYPES.securityGroup);
        for (const { rule, sgId, urn, name } of ingressRules(args.resources)) {
            if (!fromWorld(rule)) continue;
            const sg = sgs.find((s) => props(s).id !== undefined && props(s).id === sgId);
            const proto = String(rule.ipProtocol ?? rule.protocol ?? "");
            const single = Number(rule.fromPort) === Number(rule.toPort);
            if (proto !== "tcp" || !single || !allowedPorts.includes(Number(rule.fromPort))) {
                report(`${name} opens ${proto} ${rule.fromPort ?? "*"}-${rule.toPort ?? "*"} to the internet; only TCP ${allowedPorts.join("/")} may be`, urn);
            } else if (!sg) {
                report(`${name} opens TCP ${rule.fromPort} to the internet on a security group that is not in this stack (${String(sgId)})`, urn);
            } else if (props(sg).tags?.role !== edgeRoleTag) {
                report(`${name} opens TCP ${rule.fromPort} to the internet on ${sg.name} (role ${props(sg).tags?.role ?? "unset"}), not on the ${edgeRoleTag} hosts`, urn);
            }
        }
    },
};

export const sgNoWorldSsh: ResourcePolicy = {
    name: "sg-no-world-ssh",
    description: "No security group admits SSH (TCP 22) from the internet.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Allow SSH only from the admin CIDR or the edge (jump) security group.",
    validateResource: [
        forType(TYPES.ingressRule, (p, _args, report) => {
            if (fromWorld(p) && admitsPort(p, 22)) report(`ingress from ${p.cidrIpv4 ?? p.cidrIpv6} admits port 22`);
        }),
        forType(TYPES.securityGroup, (p, _args, report) => {
            for (const i of (p.ingress ?? []) as Props[]) if (fromWorld(i) && admitsPort(i, 22)) report("an inline ingress rule admits port 22 from the internet");
        }),
    ],
};

/** EC2's character set for security group names and descriptions and rule descriptions (in a VPC). */
export const EC2_DESCRIPTION_CHARS = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;

/** What is wrong with an EC2 description or name, or undefined. */
export function ec2TextProblem(text: string, max: number): string | undefined {
    if (text.length > max) return `is ${text.length} characters (at most ${max})`;
    if (!EC2_DESCRIPTION_CHARS.test(text)) {
        const bad = [...new Set([...text].filter((c) => !EC2_DESCRIPTION_CHARS.test(c)))].map((c) => JSON.stringify(c)).join(" ");
        return `contains ${bad}, outside EC2's a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*`;
    }
    return undefined;
}

export const sgTextValid: ResourcePolicy = {
    name: "sg-text-valid",
    description: "Security group names, descriptions and rule descriptions use only EC2's allowed characters and lengths.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Use only a-zA-Z0-9. _-:/()#,@[]+=&;{}!$* (no apostrophes or quotes), at most 255 characters.",
    validateResource: [
        forType(TYPES.securityGroup, (p, _args, report) => {
            for (const field of ["name", "description"]) {
                if (typeof p[field] !== "string") continue;
                const problem = ec2TextProblem(p[field], 255);
                if (problem) report(`${field} ${JSON.stringify(p[field])} ${problem}`);
            }
            if (typeof p.name === "string" && p.name.startsWith("sg-")) report(`name ${JSON.stringify(p.name)} starts with sg-, which EC2 rejects`);
            for (const rule of [...((p.ingress ?? []) as Props[]), ...((p.egress ?? []) as Props[])]) {
                const problem = typeof rule.description === "string" ? ec2TextProblem(rule.description, 255) : undefined;
                if (problem) report(`inline rule description ${JSON.stringify(rule.description)} ${problem}`);
            }
        }),
        ...[TYPES.ingressRule, TYPES.egressRule].map((t) =>
            forType(t, (p, _args, report) => {
                const problem = typeof p.description === "string" ? ec2TextProblem(p.description, 255) : undefined;
                if (problem) report(`description ${JSON.stringify(p.description)} ${problem}`);
            }),
        ),
    ],
};

export const networkPolicies = [sgWorldOnlyWebOnEdge, sgNoWorldSsh, sgTextValid];
