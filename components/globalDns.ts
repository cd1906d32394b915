/**
 * This region's share of global DNS: a Route53 health check of the edge VIP and a failover A record
 * (PRIMARY in the primary stack, SECONDARY in the standby), an alarm on the health check, and the optional
 * Cloudflare front.
 *
 * - The health check probes the Elastic IP itself over HTTPS on 443 at `/health`, sending the domain as SNI and
 *   Host (`ipAddress` + `fqdn` + `enableSni`): it tests this region's edge, not whatever the name resolves to.
 * - Failover takes about interval x threshold + TTL (10 s x 3 + 60 s, plus resolver caching): DESIGN.md fix 10.
 * - Route53 health-check metrics exist only in us-east-1, so the CloudWatch alarm and its SNS topic are created
 *   there (`usEast1Provider`), whatever this stack's region.
 * - Cloudflare (optional): a proxied CNAME `hostname` -> the Route53 failover name. Only the primary stack creates
 *   it: both stacks would otherwise manage the same record, and the name it points to already fails over.
 */
import * as aws from "@pulumi/aws";
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { Role } from "../config/types";

export interface GlobalDnsArgs {
    /**
     * The region's DNS position, fixed for its life (the role it was built with, `HaConfig.builtAs`): primary ->
     * PRIMARY failover record (and the Cloudflare record); standby -> SECONDARY. A promoted standby keeps
     * SECONDARY: Route53 answers with it as soon as the PRIMARY's health check fails, and there is never a
     * second PRIMARY for the name.
     */
    readonly position: Role;
    /** This stack's AWS region (part of the set identifier). */
    readonly region: string;
    /** The failover record's name (the application domain). */
    readonly domain: string;
    /** Route53 hosted zone holding the domain. */
    readonly hostedZoneId: pulumi.Input<string>;
    /** Record TTL, seconds. */
    readonly ttl: number;
    /** Health-check interval, seconds (10 or 30). */
    readonly healthCheckInterval: number;
    /** Failed checks before unhealthy (1-10). */
    readonly healthCheckFailureThreshold: number;
    /** This region's edge VIP (the edge Elastic IP). */
    readonly edgePublicIp: pulumi.Input<string>;
    /** AWS provider for us-east-1 (alarm and topic). */
    readonly usEast1Provider: aws.Provider;
    /** E-mail subscribed to the alarm topic (the recipient confirms it). */
    readonly alarmEmail?: string;
    /** Cloudflare front; only honoured in the primary stack. */
    readonly cloudflare?: { readonly zoneId: string; readonly hostname: string };
    /** Cloudflare provider (default: the ambient one, configured by CLOUDFLARE_API_TOKEN). */
    readonly cloudflareProvider?: cloudflare.Provider;
    /** Tags added to every AWS resource. */
    readonly tags?: Record<string, string>;
}

/** The health check's path on the edge (Traefik serves it for the domain). */
export const HEALTH_CHECK_PATH = "/health";

export class GlobalDns extends pulumi.ComponentResource {
    readonly healthCheckId: pulumi.Output<string>;
    readonly recordFqdn: pulumi.Output<string>;
    readonly alarmArn: pulumi.Output<string>;
    readonly topicArn: pulumi.Output<string>;
    readonly cloudflareRecordId?: pulumi.Output<string>;

    constructor(name: string, args: GlobalDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:GlobalDns", name, {}, opts);
        const parent = { parent: this };
        const east = { parent: this, provider: args.usEast1Provider };
        if (args.healthCheckInterval !== 10 && args.healthCheckInterval !== 30) {
            throw new Error(`GlobalDns healthCheckInterval = ${args.healthCheckInterval}: must be 10 or 30 (the only intervals Route53 offers)`);
        }
        const setIdentifier = `${args.position}-${args.region}`;
        const tags = (n: string) => ({ ...args.tags, Name: n });

        const check = new aws.route53.HealthCheck(`${name}-edge`, {
            type: "HTTPS",
            ipAddress: args.edgePublicIp,
            port: 443,
            resourcePath: HEALTH_CHECK_PATH,
            fqdn: args.domain,
            enableSni: true,
            requestInterval: args.healthCheckInterval,
            failureThreshold: args.healthCheckFailureThreshold,
            measureLatency: false,
            tags: tags(`${name}-edge-${setIdentifier}`),
        }, parent);

        const record = new aws.route53.Record(`${name}-failover`, {
            zoneId: args.hostedZoneId,
            name: args.domain,
            type: "A",
            ttl: args.ttl,
            records: [args.edgePublicIp],
            setIdentifier,
            failoverRoutingPolicies: [{ type: args.position === "primary" ? "PRIMARY" : "SECONDARY" }],
            healthCheckId: check.id,
        }, { parent: this, protect: true }); // the region's traffic: README "Tearing down" removes it on purpose

        const topic = new aws.sns.Topic(`${name}-health`, { tags: tags(`${name}-health-${setIdentifier}`) }, east);
        if (args.alarmEmail) {
            new aws.sns.TopicSubscription(`${name}-health-email`, { topic: topic.arn, protocol: "email", endpoint: args.alarmEmail }, east);
        }
        const alarm = new aws.cloudwatch.MetricAlarm(`${name}-health`, {
            alarmDescription: `Route53 health check of the ${args.position} edge (${args.region}, ${args.domain}) is failing: traffic fails over`,
            namespace: "AWS/Route53",
            metricName: "HealthCheckStatus",
            dimensions: { HealthCheckId: check.id },
            statistic: "Minimum",
            period: 60,
            evaluationPeriods: 1,
            threshold: 1,
            comparisonOperator: "LessThanThreshold",
            // No data means the checker stopped reporting: treat it as unhealthy.
            treatMissingData: "breaching",
            alarmActions: [topic.arn],
            okActions: [topic.arn],
            tags: tags(`${name}-health-${setIdentifier}`),
        }, east);

        if (args.cloudflare && args.position === "primary") {
            const cf = new cloudflare.DnsRecord(`${name}-cloudflare`, {
                zoneId: args.cloudflare.zoneId,
                name: args.cloudflare.hostname,
                type: "CNAME",
                content: record.fqdn,
                proxied: true,
                ttl: 1, // "automatic": required for proxied records
                comment: "ops-center-ha: proxied front of the Route53 failover name",
            }, { parent: this, provider: args.cloudflareProvider });
            this.cloudflareRecordId = cf.id;
        }

        this.healthCheckId = check.id;
        this.recordFqdn = record.fqdn;
        this.alarmArn = alarm.arn;
        this.topicArn = topic.arn;
        this.registerOutputs({
            healthCheckId: this.healthCheckId,
            recordFqdn: this.recordFqdn,
            alarmArn: this.alarmArn,
            topicArn: this.topicArn,
        });
    }
}
