/**
 * Every configuration key this program reads, in one table. `Pulumi.yaml` declares exactly these keys
 * (a test checks that), the README's config table is generated from it, and `validate.ts` reads each
 * key once, through this table, before any resource exists.
 */

/**
 * How a key's text is parsed. "object" is a structured value (`pulumi config set --path 'key.field' v`), which the
 * engine hands over as JSON text; Pulumi.yaml declares it without a `type:` (see `scripts/configTable.ts`).
 */
export type KeyType = "string" | "integer" | "boolean" | "object";

/** One configuration key of the `ops-center-ha` namespace. */
export interface KeySpec {
    readonly key: string;
    readonly type: KeyType;
    /** One line for Pulumi.yaml and the README. */
    readonly description: string;
    /** The value used when the stack does not set the key; absent means required (or optional where stated). */
    readonly default?: string | number | boolean;
    /** Only read from `secure:` config (checked by `validate.ts`); never has a real default. */
    readonly secret?: boolean;
    /** May be absent without a default. */
    readonly optional?: boolean;
}

/**
 * The `default:` Pulumi.yaml declares for a key. The engine treats a project key with no default and no stack
 * value as required and stops before the program runs ("Stack '<s>' is missing configuration value ...",
 * pulumi/pulumi sdk/go/common/workspace/config.go `mergeConfig`). So every key the program does not strictly
 * need in every stack declares a default; optional keys and secrets declare `""`, which `validate.ts` reads as
 * "unset" (and then applies its own rule, e.g. "required when role is standby", or for a required secret the
 * exact `pulumi config set --secret` command). Only keys every stack must set (hostedZoneId) have none.
 * Secrets are not declared `secret: true`: the engine applies a default as a plain value and then rejects it
 * ("must be encrypted as it's secret", `validateStackConfigValue`), so `validate.ts` checks secretness instead.
 */
export function declaredDefault(spec: KeySpec): string | number | boolean | undefined {
    if (spec.default !== undefined) return spec.default;
    return spec.optional || spec.secret ? "" : undefined;
}

export const CONFIG_NAMESPACE = "ops-center-ha";

export const CONFIG_KEYS: readonly KeySpec[] = [
    // Region and cross-region
    { key: "role", type: "string", description: "This region's role: primary or standby.", default: "primary" },
    { key: "primaryStack", type: "string", description: "The primary region's stack (org/project/stack) this region was built as a standby of: read by StackReference while role is standby; kept after promotion (the region keeps its standby sizes, names and SECONDARY record).", optional: true },
    { key: "peerRegion", type: "string", description: "The other region (primary's region for a standby, standby's for a primary).", optional: true },
    { key: "vpcCidr", type: "string", description: "This region's VPC CIDR (a /16 to /24).", default: "10.10.0.0/16" },
    { key: "peerVpcCidr", type: "string", description: "The other region's VPC CIDR; must not overlap vpcCidr. Replication security-group rules allow only it.", optional: true },
    { key: "adminCidr", type: "string", description: "The only CIDR allowed to SSH to the hosts (and to reach the Docker API over SSH).", default: "203.0.113.0/24" },
    { key: "availabilityZoneCount", type: "integer", description: "Availability zones to spread hosts over (3 managers need 3).", default: 3 },
    { key: "availabilityZones", type: "string", description: "The zones this stack's subnets and hosts live in, comma-separated, exactly availabilityZoneCount of them (e.g. us-east-1a,us-east-1b,us-east-1c). Chosen once and kept: never recomputed from the zones AWS reports available. Required with the EC2 hosts this program creates.", optional: true },
    // DNS
    { key: "domain", type: "string", description: "Public DNS name of the application (the Route53 failover record).", default: "ops.example.com" },
    { key: "hostedZoneId", type: "string", description: "Route53 hosted zone id that holds the domain." },
    { key: "dnsTtl", type: "integer", description: "TTL of the failover record, seconds (30-300).", default: 60 },
    { key: "healthCheckInterval", type: "integer", description: "Route53 health-check interval, seconds (10 or 30).", default: 10 },
    { key: "healthCheckFailureThreshold", type: "integer", description: "Route53 failed checks before unhealthy (1-10).", default: 3 },
    { key: "alarmEmail", type: "string", description: "Address subscribed to the SNS topic of the health-check alarm.", optional: true },
    { key: "cloudflareEnabled", type: "boolean", description: "Put a proxied Cloudflare record in front of the Route53 name.", default: false },
    { key: "cloudflareZoneId", type: "string", description: "Cloudflare zone id (required when cloudflareEnabled).", optional: true },
    { key: "cloudflareHostname", type: "string", description: "Public hostname served by Cloudflare (defaults to www.<domain>).", optional: true },
    // Substrate
    { key: "existingSwarmHost", type: "string", description: "Use this existing Swarm (ssh://user@host or unix:///var/run/docker.sock) and create no EC2 hosts.", optional: true },
    { key: "existingSwarmDataHosts", type: "string", description: "With existingSwarmHost: comma-separated hostnames of the Swarm nodes labelled role=data (at least 3), to pin Postgres, etcd and Redis to.", optional: true },
    { key: "amiSsmParameter", type: "string", description: "Public SSM parameter naming the host AMI.", default: "/aws/service/debian/release/12/latest/amd64" },
    { key: "sshUser", type: "string", description: "SSH user of the AMI, used by the Docker provider.", default: "admin" },
    { key: "sshKeyName", type: "string", description: "EC2 key pair installed on the hosts.", optional: true },
    { key: "edgeInstanceType", type: "string", description: "Instance type of the edge (Traefik + keepalived) hosts.", default: "t3.small" },
    { key: "appInstanceType", type: "string", description: "Instance type of the app hosts (frontend, backend, monitoring).", default: "t3.large" },
    { key: "dataInstanceType", type: "string", description: "Instance type of the data hosts (Postgres, Redis, etcd).", default: "r6i.xlarge" },
    { key: "edgeNodes", type: "integer", description: "Edge hosts (2 in a primary region for the keepalived pair).", default: 2 },
    { key: "appNodes", type: "integer", description: "App hosts (also the 3 Swarm managers' pool).", default: 3 },
    { key: "dataNodes", type: "integer", description: "Data hosts, one per zone.", default: 3 },
    { key: "rollHost", type: "string", description: "The one host an update may replace (e.g. app-1): the only unprotected host, it takes the current user data, key pair and its hostAmis entry. Every other host is protected and ignores those, so no update replaces more than this host.", optional: true },
    { key: "rootVolumeGb", type: "integer", description: "Encrypted gp3 root volume size, GiB (20-2000).", default: 40 },
    { key: "dataVolumeGb", type: "integer", description: "Size of each data host's EBS data volume, GiB (20-16384): every Docker volume of the host (Postgres, etcd, Redis) lives on it; it is protected, kept on delete and re-attached to the host's replacement. Grows in place.", default: 100 },
    { key: "hostAmis", type: "string", description: "Explicit AMI per host, comma-separated host=ami-id pairs (e.g. data-2=ami-0123456789abcdef0). A listed host runs exactly that AMI (a new id replaces it: list it with rollHost); an unlisted host keeps the AMI amiSsmParameter named when it was created.", optional: true },
    // Service tiers
    { key: "frontendReplicas", type: "integer", description: "Frontend replicas (at least 3 in a primary region).", default: 3 },
    { key: "backendReplicas", type: "integer", description: "Backend replicas per colour (at least 3 in a primary region).", default: 3 },
    { key: "activeColor", type: "string", description: "Backend colour that Traefik routes to: blue or green.", default: "blue" },
    { key: "frontendImage", type: "string", description: "Frontend image, pinned tag or digest.", default: "kubeworkz/ops_center:frontend-1.4.2" },
    { key: "backendImage", type: "string", description: "Backend image for the active colour, pinned tag or digest.", default: "kubeworkz/ops_center:backend-1.4.2" },
    { key: "backendImageInactive", type: "string", description: "Backend image for the inactive colour (defaults to backendImage).", optional: true },
    { key: "redisReplicas", type: "integer", description: "Redis replicas in this region (2 in a primary; 1 priority-0 replica in a standby).", default: 2 },
    { key: "redisSentinels", type: "integer", description: "Redis sentinels (odd, at least 3).", default: 3 },
    { key: "redisQuorum", type: "integer", description: "Sentinels that must agree the master is down (a majority).", default: 2 },
    { key: "redisDownAfterMs", type: "integer", description: "Sentinel down-after-milliseconds (1000-60000).", default: 5000 },
    { key: "postgresMembers", type: "integer", description: "Patroni members in this region, one per data host (3: leader, synchronous standby and a third that keeps a synchronous standby after a failover; at least 3 in a region built as primary).", default: 3 },
    { key: "postgresRollLast", type: "string", description: "The Patroni member (pg-1..pg-N) that leads now: a roll of the Postgres members (an image bump, a secret) stops it last, after the others, so a roll costs one leader handover (npm run postgres-leader prints it; README, Rolling a stateful tier). Unset: pg-1, pg-2, pg-3 in order.", optional: true },
    { key: "etcdMembers", type: "integer", description: "etcd members (odd, at least 3).", default: 3 },
    { key: "patroniTtl", type: "integer", description: "Patroni leader-key TTL, seconds (Patroni 4 floor is 20).", default: 20 },
    { key: "patroniLoopWait", type: "integer", description: "Patroni loop_wait, seconds (how soon Patroni notices a crashed postmaster).", default: 2 },
    { key: "patroniRetryTimeout", type: "integer", description: "Patroni retry_timeout, seconds (loop_wait + 2*retry_timeout <= ttl).", default: 5 },
    { key: "archiveTimeout", type: "integer", description: "Postgres archive_timeout, seconds (bounds RPO from WAL archiving; 30-300).", default: 60 },
    { key: "backupRetentionDays", type: "integer", description: "Base backups and WAL kept, days (at least 7).", default: 30 },
    { key: "keepalivedPriority", type: "integer", description: "keepalived priority of the first edge host; the second gets 50 less.", default: 150 },
    { key: "keepalivedRouterId", type: "integer", description: "VRRP virtual_router_id (1-255).", default: 51 },
    { key: "tlsMode", type: "string", description: "How both Traefik instances get one certificate: dns01 (ACME DNS-01 via Route53) or certificate (a certificate shipped as a Swarm secret).", default: "dns01" },
    { key: "acmeEmail", type: "string", description: "ACME account e-mail (tlsMode dns01).", default: "ops@example.com" },
    { key: "tlsCertificate", type: "string", description: "PEM certificate (tlsMode certificate).", optional: true, secret: true },
    { key: "tlsPrivateKey", type: "string", description: "PEM private key (tlsMode certificate).", optional: true, secret: true },
    { key: "standbyCredentials", type: "string", description: "The region's passwords as JSON (pgSuperuser, pgReplication, pgApp, pgMonitor, redis) instead of generated ones: required with primaryStack (the primary's, copied once with npm run promote -- copy-credentials <stack>); kept when a promoted region drops primaryStack.", optional: true, secret: true },
    { key: "restore", type: "object", description: "Point-in-time restore: { fromBucket, targetTime (RFC 3339 with offset), kmsKeyArn, fromScope?, fromRegion?, bucketRegion?, redisRdbKey? }. Bootstraps a NEW Postgres cluster (scope and volumes named after targetTime) from the WAL-G backups and WAL in fromBucket up to targetTime, and seeds empty Redis volumes from the RDB copy redisRdbKey. Keep it set afterwards: it names the restored cluster. Primary region only.", optional: true },
    { key: "alertWebhookUrl", type: "string", description: "Alertmanager webhook receiver URL (set with pulumi config set --secret).", secret: true },
    // Images of the data and edge tiers
    { key: "spiloImage", type: "string", description: "Spilo (Patroni + Postgres + WAL-G) image, pinned.", default: "ghcr.io/zalando/spilo-17:4.0-p2" },
    { key: "etcdImage", type: "string", description: "etcd image, pinned.", default: "registry.k8s.io/etcd:3.5.16-0" },
    { key: "haproxyImage", type: "string", description: "HAProxy image (Patroni leader router), pinned.", default: "haproxy:2.8.11" },
    { key: "redisImage", type: "string", description: "Redis image, pinned.", default: "redis:7.2.6-alpine" },
    { key: "redisExporterImage", type: "string", description: "redis_exporter image, pinned.", default: "oliver006/redis_exporter:v1.66.0-alpine" },
    { key: "postgresExporterImage", type: "string", description: "postgres_exporter image (WAL archiving metrics), pinned.", default: "quay.io/prometheuscommunity/postgres-exporter:v0.16.0" },
    { key: "blackboxExporterImage", type: "string", description: "blackbox_exporter image (edge VIP probe), pinned.", default: "prom/blackbox-exporter:v0.25.0" },
    { key: "nodeExporterImage", type: "string", description: "node_exporter image (disk and memory of every host), pinned.", default: "prom/node-exporter:v1.8.2" },
    { key: "awsCliImage", type: "string", description: "AWS CLI image for the Redis RDB copy and the region fence sync, pinned.", default: "amazon/aws-cli:2.22.10" },
    { key: "socketProxyImage", type: "string", description: "Read-only Docker socket proxy for Traefik's Swarm provider, pinned.", default: "tecnativa/docker-socket-proxy:0.3.0" },
    { key: "traefikImage", type: "string", description: "Traefik v3 image (v3.3 or later), pinned.", default: "traefik:v3.6.24" },
    { key: "prometheusImage", type: "string", description: "Prometheus image, pinned.", default: "prom/prometheus:v2.55.1" },
    { key: "alertmanagerImage", type: "string", description: "Alertmanager image, pinned.", default: "prom/alertmanager:v0.27.0" },
];

export function keySpec(key: string): KeySpec {
    const spec = CONFIG_KEYS.find((k) => k.key === key);
    if (!spec) throw new Error(`internal: config key ${key} is not declared in config/keys.ts`);
    return spec;
}
