/**
 * Monthly cost of a plan (pure: plan in, priced lines out), from the pinned price table (prices.ts) and
 * stated usage assumptions. Counts what the plan creates; a resource it only refers to (the existing Route53
 * zone) is counted once, in the stack that owns the PRIMARY record.
 */
import type { PlanLike } from "./policyRun";
import { DEFAULT_USAGE, HOURS_PER_MONTH, PRICES, PRICES_DATE, PriceTable, UsageAssumptions } from "./prices";

export interface CostLine {
    readonly category: string;
    readonly item: string;
    readonly quantity: number;
    readonly unit: string;
    readonly unitPrice: number;
    readonly monthly: number;
}

export interface CostReport {
    readonly stack: string;
    readonly region: string;
    readonly lines: CostLine[];
    readonly total: number;
    readonly assumptions: string[];
    readonly pricesDate: string;
    readonly sources: readonly string[];
}

type Res = PlanLike["resources"][number];
type P = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const cents = (x: number) => Math.round(x * 100) / 100;

/** The plan's monthly cost in `region` (the stack's aws:region). */
export function costOfPlan(plan: PlanLike, region: string, usage: UsageAssumptions = DEFAULT_USAGE, prices: PriceTable = PRICES): CostReport {
    const of = (t: string): Res[] => plan.resources.filter((r) => r.type === t);
    const lines: CostLine[] = [];
    const assumptions: string[] = [`${HOURS_PER_MONTH} hours per month; on-demand prices, no savings plan or free tier`];
    const add = (category: string, item: string, quantity: number, unit: string, unitPrice: number) => {
        if (quantity > 0) lines.push({ category, item, quantity: cents(quantity), unit, unitPrice, monthly: cents(quantity * unitPrice) });
    };
    const hourly = prices.ec2Hourly[region] ?? {};

    // EC2 by instance type, and their EBS volumes.
    const instances = of("aws:ec2/instance:Instance").map((r) => r.inputs as P);
    const byType = new Map<string, number>();
    for (const i of instances) byType.set(String(i.instanceType), (byType.get(String(i.instanceType)) ?? 0) + 1);
    for (const [type, n] of [...byType].sort()) {
        const price = hourly[type];
        if (price === undefined) {
            assumptions.push(`NO PRICE for ${type} in ${region}: add it to offline/prices.ts (counted as 0)`);
            continue;
        }
        add("EC2", `${type} (${region})`, n * HOURS_PER_MONTH, "instance-hours", price);
    }
    const gb = instances.reduce((s, i) => s + Number(i.rootBlockDevice?.volumeSize ?? 8) + ((i.ebsBlockDevices ?? []) as P[]).reduce((t, d) => t + Number(d.volumeSize ?? 0), 0), 0);
    add("EBS", "gp3 volumes", gb, "GB-month", prices.ebsGp3GbMonth);
    // The data hosts' own volumes (retained across host replacements), priced like the root volumes: gp3 at baseline.
    const volumes = of("aws:ebs/volume:Volume").map((r) => r.inputs as P);
    for (const v of volumes) if (v.type !== undefined && v.type !== "gp3") assumptions.push(`EBS volume type ${v.type} priced as gp3`);
    add("EBS", "gp3 data volumes", volumes.reduce((s, v) => s + Number(v.size ?? 0), 0), "GB-month", prices.ebsGp3GbMonth);
    if (instances.some((i) => i.rootBlockDevice?.volumeSize === undefined)) assumptions.push("a root volume without volumeSize is the AMI's 8 GB");

    // NAT gateways, and public IPv4 addresses (Elastic IPs and auto-assigned ones).
    const nats = of("aws:ec2/natGateway:NatGateway");
    add("VPC", "NAT gateways", nats.length * HOURS_PER_MONTH, "gateway-hours", prices.natGatewayHourly);
    if (nats.length) {
        add("VPC", "NAT data processed", usage.natGbPerMonth, "GB", prices.natGatewayPerGb);
        assumptions.push(`${usage.natGbPerMonth} GB/month through the NAT gateways`);
    }
    // Interface endpoints (EC2, SSM): one ENI per subnet, each billed per hour.
    const interfaceEnis = of("aws:ec2/vpcEndpoint:VpcEndpoint")
        .map((e) => e.inputs as P)
        .filter((e) => e.vpcEndpointType === "Interface")
        .reduce((n, e) => n + ((e.subnetIds ?? []) as unknown[]).length, 0);
    if (interfaceEnis) add("VPC", "interface endpoints (EC2, SSM)", interfaceEnis * HOURS_PER_MONTH, "endpoint-AZ-hours", prices.interfaceEndpointAzHourly);
    const eips = of("aws:ec2/eip:Eip").length;
    const natAllocations = nats.length;
    const publicInstances = instances.filter((i) => i.associatePublicIpAddress === true).length;
    const edgeEips = Math.max(0, eips - natAllocations);
    // An instance holding an Elastic IP gives up its auto-assigned address.
    const addresses = eips + Math.max(0, publicInstances - edgeEips);
    add("VPC", "public IPv4 addresses", addresses * HOURS_PER_MONTH, "address-hours", prices.publicIpv4Hourly);

    // Route53.
    const primaryRecord = of("aws:route53/record:Record").some((r) => ((r.inputs as P).failoverRoutingPolicies ?? []).some((f: P) => f.type === "PRIMARY"));
    if (primaryRecord) {
        add("Route53", "hosted zone (shared; counted with the PRIMARY record)", 1, "zone-month", prices.route53ZoneMonth);
        add("Route53", "standard queries", usage.dnsQueriesMillions, "million queries", prices.route53QueriesPerMillion);
        assumptions.push(`${usage.dnsQueriesMillions} million DNS queries/month, counted in the primary stack`);
    }
    for (const h of of("aws:route53/healthCheck:HealthCheck")) {
        const p = h.inputs as P;
        const aws = typeof p.ipAddress === "string" || /amazonaws\.com$/.test(String(p.fqdn ?? ""));
        const type = String(p.type ?? "");
        const features = [/^HTTPS/.test(type) && "HTTPS", /STR_MATCH$/.test(type) && "string matching", Number(p.requestInterval) === 10 && "10 s interval", p.measureLatency === true && "latency"].filter(Boolean);
        add("Route53", `health check ${h.name} (${aws ? "AWS" : "non-AWS"} endpoint)`, 1, "check-month", aws ? prices.route53HealthCheckAwsMonth : prices.route53HealthCheckNonAwsMonth);
        add("Route53", `health check ${h.name} options: ${features.join(", ") || "none"}`, features.length, "feature-month", aws ? prices.route53HealthCheckFeatureAwsMonth : prices.route53HealthCheckFeatureNonAwsMonth);
        if (aws) assumptions.push(`health check ${h.name} probes an Elastic IP: priced as an AWS endpoint`);
    }

    // S3, replication and inter-region transfer.
    const buckets = of("aws:s3/bucket:Bucket").length;
    if (buckets) {
        add("S3", `Standard storage (${buckets} bucket(s))`, buckets * usage.s3StoredGb, "GB-month", prices.s3StandardGbMonth);
        assumptions.push(`${usage.s3StoredGb} GB stored per WAL/backup bucket`);
    }
    if (of("aws:s3/bucketReplicationConfig:BucketReplicationConfig").length) {
        add("Transfer", "S3 replication to the other region", usage.walGbPerMonth, "GB", prices.interRegionPerGb);
        assumptions.push(`${usage.walGbPerMonth} GB/month of WAL and base backups replicated by S3 (counted in the stack that owns replication)`);
    }
    if (of("aws:ec2/vpcPeeringConnection:VpcPeeringConnection").length) {
        add("Transfer", "Postgres streaming + Redis replication over the peering", usage.walGbPerMonth + usage.redisGbPerMonth, "GB", prices.interRegionPerGb);
        assumptions.push(`${usage.walGbPerMonth} GB/month of Postgres streaming and ${usage.redisGbPerMonth} GB/month of Redis replication cross the peering (counted in the stack that owns it)`);
    }

    // Postgres streaming inside the region: every Patroni member but the leader receives the WAL from another zone
    // (members are pinned one per data host, the data hosts one per zone). A standby cluster's replicas cascade from
    // its standby leader the same way.
    const members = of("docker:index/service:Service").filter((r) => /-pg-\d+$/.test(String((r.inputs as P).name ?? ""))).length;
    if (members > 1) {
        add("Transfer", "Postgres replication between zones", (members - 1) * usage.walGbPerMonth, "GB", prices.interAzPerGb);
        assumptions.push(`${members} Patroni members: ${members - 1} replicas each receive the ${usage.walGbPerMonth} GB/month of WAL from another zone`);
    }

    // KMS and CloudWatch.
    const keys = of("aws:kms/key:Key").length;
    add("KMS", "customer managed keys", keys, "key-month", prices.kmsKeyMonth);
    if (keys) {
        add("KMS", "requests", (keys * usage.kmsRequestsPerMonth) / 10_000, "10k requests", prices.kmsPer10kRequests);
        assumptions.push(`${usage.kmsRequestsPerMonth} KMS requests/month per key (S3 bucket keys on)`);
    }
    add("CloudWatch", "metric alarms (standard resolution)", of("aws:cloudwatch/metricAlarm:MetricAlarm").length, "alarm-month", prices.cloudwatchAlarmMonth);
    assumptions.push("free here: VPC, subnets, IGW, S3 gateway endpoint, SSM Standard parameters, SNS e-mail (first 1,000), IAM, peering itself");

    const total = cents(lines.reduce((s, l) => s + l.monthly, 0));
    return { stack: plan.stack, region, lines, total, assumptions, pricesDate: PRICES_DATE, sources: prices.source };
}

/** Totals by category. */
export function byCategory(r: CostReport): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of r.lines) out[l.category] = cents((out[l.category] ?? 0) + l.monthly);
    return out;
}

const usd = (x: number) => `$${x.toFixed(2)}`;
/** A unit price with the precision the table has (e.g. $0.0832). */
const unit = (x: number) => `$${x < 1 ? String(Number(x.toFixed(4))) : x.toFixed(2)}`;

/** The cost report as a Markdown table (also readable in a terminal). */
export function formatCost(r: CostReport): string {
    const rows = r.lines.map((l) => `| ${l.category} | ${l.item} | ${l.quantity} ${l.unit} | ${unit(l.unitPrice)} | ${usd(l.monthly)} |`);
    return [
        `Monthly cost of stack ${r.stack} (${r.region}), prices of ${r.pricesDate}:`,
        "",
        "| category | item | quantity | unit price | per month |",
        "| --- | --- | --- | --- | --- |",
        ...rows,
        `| **total** | | | | **${usd(r.total)}** |`,
        "",
        "Assumptions:",
        ...r.assumptions.map((a) => `- ${a}`),
        "",
        `Prices: ${r.sources.join("; ")}.`,
        "",
    ].join("\n");
}
