/**
 * DNS failover policies: exactly one Route53 failover record of the stack's role with a health check, a short
 * TTL, a failover time within budget (interval x threshold + TTL), and Route53 alarms in us-east-1 (the only
 * region where Route53 publishes health-check metrics).
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { forType, props, Props, requireRole, resourcesOf, ResourcePolicy, StackPolicy, TYPES } from "./support";

/** The failover records of a stack (records with a failover routing policy). */
export function failoverRecords(args: StackValidationArgs): PolicyResource[] {
    return resourcesOf(args, TYPES.record).filter((r) => ((props(r).failoverRoutingPolicies ?? []) as Props[]).length > 0);
}

/** Stops with notApplicable when the stack has no public edge (an existing Swarm: no Elastic IP, no record by design). */
function requireEdge(args: StackValidationArgs): void {
    if (resourcesOf(args, "aws:ec2/eip:Eip").length === 0 && failoverRecords(args).length === 0) {
        args.notApplicable("no Elastic IP and no failover record: an existing-Swarm stack has no Route53 failover by design");
    }
}

export const dnsFailoverRecord: StackPolicy = {
    name: "dns-failover-record",
    description: "The stack has exactly one Route53 failover record, of its role's kind (PRIMARY/SECONDARY), with a health check.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Create one aws.route53.Record with failoverRoutingPolicies [{ type: PRIMARY|SECONDARY }] and healthCheckId.",
    validateStack: (args, report) => {
        requireEdge(args);
        const role = requireRole(args);
        const want = role === "primary" ? "PRIMARY" : "SECONDARY";
        const records = failoverRecords(args);
        if (records.length !== 1) {
            report(`${records.length} failover records in a ${role} stack (${records.map((r) => r.name).join(", ") || "none"}); exactly one is needed`);
            return;
        }
        const r = records[0];
        const p = props(r);
        const kind = (p.failoverRoutingPolicies as Props[])[0]?.type;
        if (kind !== want) report(`record ${r.name} is ${kind}, but this stack's role is ${role} (${want})`, r.urn);
        if (typeof p.healthCheckId !== "string" || p.healthCheckId === "") {
            report(`record ${r.name} has no healthCheckId: Route53 would never fail over from it`, r.urn);
            return;
        }
        const checks = resourcesOf(args, TYPES.healthCheck);
        const known = checks.map((h) => props(h).id).filter((x) => x !== undefined);
        if (known.length > 0 && !known.includes(p.healthCheckId)) report(`record ${r.name} uses health check ${p.healthCheckId}, which is not in this stack`, r.urn);
    },
};

export const dnsFailoverTtl: ResourcePolicy = {
    name: "dns-failover-ttl",
    description: "A failover record's TTL is short enough that clients follow a failover quickly.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set ttl to 60 seconds or less on the failover record.",
    configSchema: { properties: { maxTtlSeconds: { type: "integer", minimum: 0, default: 60 } } },
    validateResource: forType(TYPES.record, (p, args, report) => {
        if (((p.failoverRoutingPolicies ?? []) as Props[]).length === 0) return;
        const { maxTtlSeconds } = args.getConfig<{ maxTtlSeconds: number }>();
        if (p.aliases?.length) return; // alias records have no TTL of their own
        if (!(Number(p.ttl) <= maxTtlSeconds)) report(`ttl ${p.ttl ?? "unset"} exceeds ${maxTtlSeconds} s`);
    }),
};

/** Seconds from an edge going down to clients leaving it: request interval x failure threshold + TTL. */
export function failoverSeconds(check: Props, record: Props): number {
    return Number(check.requestInterval ?? 30) * Number(check.failureThreshold ?? 3) + Number(record.ttl ?? 0);
}

export const dnsFailoverTime: StackPolicy = {
    name: "dns-failover-time",
    description: "Route53 failover completes in budget: health-check interval x failure threshold + record TTL.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Use requestInterval 10 and failureThreshold 3 with ttl 60 (90 s), or lower.",
    configSchema: { properties: { maxFailoverSeconds: { type: "integer", minimum: 1, default: 90 } } },
    validateStack: (args, report) => {
        requireEdge(args);
        const { maxFailoverSeconds } = args.getConfig<{ maxFailoverSeconds: number }>();
        const checks = resourcesOf(args, TYPES.healthCheck);
        for (const r of failoverRecords(args)) {
            const p = props(r);
            const hc = checks.find((h) => props(h).id !== undefined && props(h).id === p.healthCheckId) ?? (checks.length === 1 ? checks[0] : undefined);
            if (!hc) continue; // dns-failover-record reports a missing check
            const s = failoverSeconds(props(hc), p);
            if (s > maxFailoverSeconds) {
                const c = props(hc);
                report(`${c.requestInterval ?? 30} s x ${c.failureThreshold ?? 3} + ttl ${p.ttl} = ${s} s exceeds ${maxFailoverSeconds} s`, r.urn);
            }
        }
    },
};

/** The region of an ARN (arn:partition:service:region:account:...), or undefined. */
function arnRegion(arn: unknown): string | undefined {
    const parts = typeof arn === "string" ? arn.split(":") : [];
    return parts.length > 4 && parts[0] === "arn" ? parts[3] : undefined;
}

export const dnsAlarmsUsEast1: ResourcePolicy = {
    name: "dns-alarms-us-east-1",
    description: "CloudWatch alarms on Route53 health checks live in us-east-1, the only region with those metrics.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Create the alarm (and its SNS topic) with an aws.Provider for us-east-1.",
    validateResource: forType(TYPES.metricAlarm, (p, args, report) => {
        if (p.namespace !== "AWS/Route53") return;
        const providerRegion = args.provider ? (args.provider.props as Props).region : undefined;
        const actionRegions = [...new Set([...(p.alarmActions ?? []), ...(p.okActions ?? [])].map(arnRegion).filter(Boolean))];
        const regions = providerRegion ? [providerRegion] : actionRegions;
        if (regions.length === 0) args.notApplicable("neither the alarm's provider nor its actions say which region it is in");
        const wrong = regions.filter((r) => r !== "us-east-1");
        if (wrong.length) report(`Route53 alarm in ${wrong.join(", ")}: Route53 health-check metrics exist only in us-east-1`);
    }),
};

export const dnsPolicies = [dnsFailoverRecord, dnsFailoverTtl, dnsFailoverTime, dnsAlarmsUsEast1];
