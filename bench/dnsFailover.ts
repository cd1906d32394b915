/**
 * Route53's part of a region failover, computed from what the program registers (the offline plan), never from
 * constants: the PRIMARY failover record's health check needs `request_interval x failure_threshold` seconds of
 * failed checks to call the primary region unhealthy (Route53 docs, "How Amazon Route 53 determines whether a health
 * check is healthy"), then resolvers may hold the old answer for the records' TTL.
 */
import { OfflinePlan, RecordedResource } from "../offline/engine";
import { unwrap } from "../test/harness";

const HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck";
const RECORD = "aws:route53/record:Record";

/** The settings that decide the DNS part, and the seconds they add up to. */
export interface DnsFailover {
    /** request_interval of the PRIMARY record's health check, seconds. */
    readonly requestIntervalS: number;
    /** failure_threshold of that health check. */
    readonly failureThreshold: number;
    /** Largest TTL of the failover records (PRIMARY and SECONDARY), seconds. */
    readonly ttlS: number;
    /** requestIntervalS x failureThreshold. */
    readonly detectionS: number;
    /** detectionS + ttlS. */
    readonly totalS: number;
}

const inputs = (r: RecordedResource) => unwrap(r.inputs) as Record<string, unknown>;
const failoverType = (r: RecordedResource) => {
    const p = inputs(r).failoverRoutingPolicies as { type?: string }[] | undefined;
    return p?.[0]?.type;
};

/**
 * From the primary stack's plan (its PRIMARY record and that record's health check) and the standby's (its
 * SECONDARY record). The health check is matched to the record by the record's `healthCheckId` input, the mock id
 * of the check.
 */
export function dnsFailover(primary: OfflinePlan, standby: OfflinePlan): DnsFailover {
    const records = [primary, standby].flatMap((p) => p.resources.filter((r) => r.type === RECORD && failoverType(r) !== undefined));
    const prim = records.filter((r) => failoverType(r) === "PRIMARY");
    if (prim.length !== 1) throw new Error(`expected one PRIMARY failover record in the primary stack's plan, found ${prim.length}`);
    if (!records.some((r) => failoverType(r) === "SECONDARY")) throw new Error("no SECONDARY failover record in the standby stack's plan");
    const checkId = inputs(prim[0]).healthCheckId;
    const checks = primary.resources.filter((r) => r.type === HEALTH_CHECK);
    const check = checks.find((c) => c.id !== undefined && c.id === checkId) ?? (checks.length === 1 ? checks[0] : undefined);
    if (!check) throw new Error(`no health check with id ${String(checkId)} (the PRIMARY record's healthCheckId) in the primary stack's plan`);
    const requestIntervalS = Number(inputs(check).requestInterval);
    const failureThreshold = Number(inputs(check).failureThreshold);
    const ttlS = Math.max(...records.map((r) => Number(inputs(r).ttl)));
    for (const [k, v] of Object.entries({ requestIntervalS, failureThreshold, ttlS })) if (!Number.isFinite(v) || v <= 0) throw new Error(`${k} = ${v}: not read from the plan`);
    const detectionS = requestIntervalS * failureThreshold;
    return { requestIntervalS, failureThreshold, ttlS, detectionS, totalS: detectionS + ttlS };
}
