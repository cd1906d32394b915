/**
 * alerts.yml: the Prometheus alert rules of one region (group `ops_center_ha`).
 *
 * The design document's three rules (BackendDown, DatabaseConnectionPoolExhausted, HighErrorRate,
 * the last one corrected to a ratio) plus the HA rules: Patroni leader, replication lag, WAL archive,
 * Redis master, Sentinel quorum, edge VIP, certificate expiry and unreachable scrape targets.
 * Every rule has a `severity` label and `summary`, `description` and `runbook` annotations.
 * Annotations use only `{{ $labels.<name> }}` templates. Pure: no Pulumi, no I/O.
 */
import { Document, isMap, isSeq } from "yaml";
import { checkDuration, checkRegion, checkRole, MONITORING_DEFAULTS, RegionRole } from "./prometheus";

/** Thresholds and durations; every field defaults to `MONITORING_DEFAULTS.alerts`. */
export type AlertThresholds = { -readonly [K in keyof typeof MONITORING_DEFAULTS.alerts]: (typeof MONITORING_DEFAULTS.alerts)[K] extends number ? number : string };

/** Input of {@link renderAlertRules}. */
export interface AlertRulesInput {
    /** AWS region, only used in the header comment (Prometheus attaches it to alerts as an external label). */
    readonly region: string;
    /** "standby" drops the rules for what only the primary region runs (Redis master, Sentinel, WAL archive, replica lag) and watches the standby leader instead of the primary. */
    readonly role: RegionRole;
    /** Overrides of the default thresholds and durations. */
    readonly thresholds?: Partial<AlertThresholds>;
    /** Patroni members of the region (config postgresMembers, default 3): fewer than members - 1 replicas warns. */
    readonly postgresMembers?: number;
}

/** One alert rule as rendered. */
export interface AlertRule {
    /** Alert name (CamelCase). */
    readonly alert: string;
    /** PromQL expression. */
    readonly expr: string;
    /** How long `expr` must hold before the alert fires (omitted: fires on the first evaluation). */
    readonly for?: string;
    /** "critical" pages; "warning" goes to the warning route. */
    readonly severity: "critical" | "warning";
    /** One-line summary. */
    readonly summary: string;
    /** Description; may use `{{ $labels.<name> }}`. */
    readonly description: string;
    /** Why the rule is written this way; rendered as a YAML comment above it. */
    readonly comment?: string;
}

/** Name of the rule group. */
export const ALERT_GROUP = "ops_center_ha";

/** Fills and validates the thresholds. */
export function alertThresholds(overrides: Partial<AlertThresholds> = {}): AlertThresholds {
    const t = { ...MONITORING_DEFAULTS.alerts, ...overrides } as AlertThresholds;
    for (const [k, v] of Object.entries(t)) {
        if (/(For|Window)$/.test(k)) checkDuration(`thresholds.${k}`, String(v));
    }
    const positive = (k: keyof AlertThresholds, max = Infinity) => {
        const v = t[k] as number;
        if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > max) {
            throw new Error(`thresholds.${k}: ${v} is not allowed (a number > 0${max < Infinity ? ` and <= ${max}` : ""})`);
        }
    };
    positive("dbConnectionsMax");
    positive("errorRatioMax", 1);
    positive("replicationLagBytesMax");
    positive("walArchiveAgeMaxSeconds");
    positive("sentinelQuorum");
    positive("certExpiryDays");
    positive("diskFillHorizonHours");
    positive("diskFillFreeRatioMax", 1);
    positive("diskFreeRatioMin", 1);
    positive("memoryAvailableRatioMin", 1);
    if (!Number.isInteger(t.sentinelQuorum)) throw new Error(`thresholds.sentinelQuorum: ${t.sentinelQuorum} is not an integer`);
    if (!/^[A-Za-z0-9._-]+$/.test(t.sentinelMasterName)) {
        throw new Error(`thresholds.sentinelMasterName: ${JSON.stringify(t.sentinelMasterName)} is not allowed ([A-Za-z0-9._-])`);
    }
    if (!/^\S+$/.test(t.runbookBaseUrl) || t.runbookBaseUrl.includes("#")) {
        throw new Error(`thresholds.runbookBaseUrl: ${JSON.stringify(t.runbookBaseUrl)} is not a URL or path without spaces and without '#'`);
    }
    return t;
}

/** Runbook link of an alert: `<runbookBaseUrl>#alert-<alertname lower-case>` (a README heading "Alert: <Name>"). */
export function runbookUrl(base: string, alert: string): string {
    return `${base}#alert-${alert.toLowerCase()}`;
}

/** The rules of a region, as data (the unit tests and the promtool test read them). */
export function alertRules(role: RegionRole, overrides: Partial<AlertThresholds> = {}, postgresMembers = 3): AlertRule[] {
    checkRole("role", role);
    if (!Number.isInteger(postgresMembers) || postgresMembers < 2 || postgresMembers > 9) {
        throw new Error(`postgresMembers: ${postgresMembers} is not allowed (an integer from 2 to 9)`);
    }
    const replicasWanted = postgresMembers - 1;
    const t = alertThresholds(overrides);
    const pct = `${+(t.errorRatioMax * 100).toFixed(4)} %`;
    const leaderMetric = role === "primary" ? "patroni_primary" : "patroni_standby_leader";
    const rules: AlertRule[] = [
        {
            alert: "BackendDown",
            expr: `up{job="backend"} == 0`,
            for: t.backendDownFor,
            severity: "critical",
            summary: "Backend instance down",
            description: `Backend task {{ $labels.instance }} ({{ $labels.swarm_service }}) has failed its scrapes for ${t.backendDownFor}.`,
        },
        {
            alert: "BackendUnavailable",
            expr: `absent(up{job="backend"} == 1)`,
            for: t.backendDownFor,
            severity: "critical",
            summary: "No backend task is serving",
            description: `No backend task has answered a scrape for ${t.backendDownFor}: the API is down in this region.`,
            comment: "Tasks are found by DNS (tasks.<service>): a task Swarm has removed vanishes instead of reporting up == 0, so BackendDown alone misses a fully stopped service.",
        },
        {
            alert: "DatabaseConnectionPoolExhausted",
            expr: `db_connections_active{job="backend"} > ${t.dbConnectionsMax}`,
            for: t.dbConnectionsFor,
            severity: "warning",
            summary: "Database connection pool near limit",
            description: `Backend task {{ $labels.instance }} has held more than ${t.dbConnectionsMax} active database connections for ${t.dbConnectionsFor}.`,
        },
        {
            alert: "HighErrorRate",
            expr:
                `sum by (job) (rate(http_requests_total{job="backend",status=~"5.."}[${t.errorRateWindow}]))\n` +
                `  / sum by (job) (rate(http_requests_total{job="backend"}[${t.errorRateWindow}]))\n` +
                `  > ${t.errorRatioMax}`,
            for: t.errorRateFor,
            severity: "critical",
            summary: "High HTTP error rate detected",
            description: `More than ${pct} of backend requests answered 5xx over the last ${t.errorRateWindow}, for ${t.errorRateFor}.`,
            comment:
                `Fixed from the design document: rate(http_requests_total{status=~"5.."}[5m]) > 0.05 is an absolute rate ` +
                `(0.05 errors/s, 3 a minute), so it pages on a busy day and stays silent on a quiet one. ` +
                `This is the share of 5xx responses among all responses, > ${pct}. No traffic gives 0/0 = NaN: silent.`,
        },
        {
            alert: "PatroniNoLeader",
            expr: `absent(${leaderMetric}{job="patroni"} == 1)`,
            for: t.noLeaderFor,
            severity: "critical",
            summary: role === "primary" ? "Postgres cluster has no primary" : "Postgres standby cluster has no standby leader",
            description:
                role === "primary"
                    ? `No Patroni member has reported ${leaderMetric} = 1 for ${t.noLeaderFor}: writes are failing.`
                    : `No Patroni member has reported ${leaderMetric} = 1 for ${t.noLeaderFor}: the standby region is not replicating.`,
            comment:
                `Patroni 3+ exports ${leaderMetric} (patroni_master is its deprecated alias). absent() also fires when no ` +
                `member can be scraped at all. ${t.noLeaderFor} is longer than an automatic failover, which stays silent.`,
        },
        {
            alert: "PostgresReplicasMissing",
            expr: `(count(patroni_replica{job="patroni"} == 1) or vector(0)) < ${replicasWanted}`,
            for: t.replicasMissingFor,
            severity: "warning",
            summary: "Postgres runs with fewer replicas than members",
            description:
                `Fewer than ${replicasWanted} of the ${postgresMembers} Patroni members have been replicas for ${t.replicasMissingFor}: ` +
                `one more failure stops writes (no member Patroni may promote) or leaves new commits on one host only.`,
            comment:
                `Each member exports patroni_replica (1 while it is a replica; a standby cluster's standby leader reports 0, its ` +
                `replicas 1), so both regions expect members - 1. count() of nothing is nothing: \`or vector(0)\` counts it as 0.`,
        },
    ];
    if (role === "primary") {
        rules.push(
            {
                alert: "PostgresReplicationLagHigh",
                expr:
                    `max by (scope) (patroni_xlog_location{job="patroni"} and on (instance) patroni_primary{job="patroni"} == 1)\n` +
                    `  - on (scope) group_right ()\n` +
                    `  (patroni_xlog_received_location{job="patroni"} and on (instance) patroni_replica{job="patroni"} == 1)\n` +
                    `  > ${t.replicationLagBytesMax}`,
                for: t.replicationLagFor,
                severity: "warning",
                summary: "Postgres replica is lagging",
                description: `Replica {{ $labels.instance }} of cluster {{ $labels.scope }} has received WAL more than ${t.replicationLagBytesMax} bytes behind the primary for ${t.replicationLagFor}: it cannot be promoted without data loss.`,
                comment:
                    "Patroni's /metrics has no lag metric; it exports WAL positions in bytes: the primary's patroni_xlog_location and each " +
                    "replica's patroni_xlog_received_location (falls back to the replayed position). Their difference is the lag Patroni itself " +
                    "compares with maximum_lag_on_failover before promoting, so that is the threshold.",
            },
            {
                alert: "WalArchivingStale",
                expr:
                    `pg_stat_archiver_last_archive_age{job="postgres"} > ${t.walArchiveAgeMaxSeconds}\n` +
                    `  and on ()\n` +
                    `  max(max_over_time(patroni_xlog_location{job="patroni"}[${t.walActivityWindow}]) - min_over_time(patroni_xlog_location{job="patroni"}[${t.walActivityWindow}])) > 0`,
                for: t.walArchiveFor,
                severity: "critical",
                summary: "WAL archiving is stale: the RPO is at risk",
                description: `Nothing has been archived to the WAL bucket for more than ${t.walArchiveAgeMaxSeconds} s (for ${t.walArchiveFor}) while the primary was writing WAL.`,
                comment:
                    "pg_stat_archiver_last_archive_age (postgres_exporter, stat_archiver collector, on by default) is the seconds since " +
                    "Postgres last reported a successful archive_command (WAL-G push). An idle primary archives nothing " +
                    "(archive_timeout switches only a segment that has WAL in it), so the rule also requires the primary's WAL position " +
                    `(patroni_xlog_location) to have moved in the last ${t.walActivityWindow}.`,
            },
            {
                alert: "RedisNoMaster",
                expr: `(count(redis_instance_info{job="redis",role="master"}) or vector(0)) == 0`,
                for: t.redisNoMasterFor,
                severity: "critical",
                summary: "No Redis master",
                description: `No Redis node has reported role=master for ${t.redisNoMasterFor}: sessions and caches cannot be written.`,
                comment: "count() of nothing is nothing, not 0: `or vector(0)` makes an empty result count as zero masters.",
            },
            {
                alert: "RedisSentinelQuorumLost",
                expr:
                    `max by (master_name) (redis_sentinel_master_ok_sentinels{job="redis_sentinel",master_name="${t.sentinelMasterName}"}) < ${t.sentinelQuorum}\n` +
                    `  or absent(redis_sentinel_master_ok_sentinels{job="redis_sentinel",master_name="${t.sentinelMasterName}"})`,
                for: t.sentinelQuorumFor,
                severity: "critical",
                summary: "Redis Sentinel quorum lost",
                description: `Fewer than ${t.sentinelQuorum} healthy sentinels watch master {{ $labels.master_name }} for ${t.sentinelQuorumFor}: a failed master would not be replaced.`,
                comment:
                    "redis_exporter reports, per sentinel, the sentinels it sees as healthy (itself included); the best view below the " +
                    "quorum, or no sentinel answering at all, means no failover can be authorised.",
            },
        );
    }
    rules.push(
        {
            alert: "EdgeVipDown",
            expr: `probe_success{job="edge_vip"} == 0`,
            for: t.edgeDownFor,
            severity: "critical",
            summary: "Edge VIP not answering",
            description: `The probe of {{ $labels.instance }} through the edge VIP has failed for ${t.edgeDownFor}.`,
            comment:
                "A blackbox probe through the VIP, not up{job=\"traefik\"}: Traefik tasks are scraped on their own addresses and can all be " +
                "up while no host holds the VIP (keepalived or Elastic IP reassociation failed), which is what clients see.",
        },
        {
            alert: "TlsCertificateExpiringSoon",
            expr: `min by (cn, sans, serial) (traefik_tls_certs_not_after{job="traefik"}) - time() < ${t.certExpiryDays} * 86400`,
            for: t.certExpiryFor,
            severity: "warning",
            summary: "TLS certificate expires soon",
            description: `The certificate for {{ $labels.cn }} ({{ $labels.sans }}) served by Traefik expires in less than ${t.certExpiryDays} days: renewal has failed.`,
        },
        ...hostRules(t),
        {
            alert: "ScrapeTargetDown",
            expr: `up{job!~"backend|prometheus"} == 0`,
            for: t.targetDownFor,
            severity: "warning",
            summary: "Scrape target unreachable",
            description: `{{ $labels.job }} target {{ $labels.instance }} has failed its scrapes for ${t.targetDownFor}; the alerts that read its metrics are blind.`,
            comment: "The exporters feed the rules above; when one is down those rules cannot fire.",
        },
    );
    return rules;
}

/**
 * File systems node_exporter reports that hold data: not the kernel's and Docker's virtual ones (tmpfs, each
 * container's overlay, namespaces), and not /boot.
 */
const DATA_FS = `job="node",fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs",mountpoint!~"/boot.*|/run.*"`;
/** Adds the Swarm node's name (node_uname_info's nodename: the service sets the container hostname to it). */
const WITH_NODENAME = `* on (instance) group_left (nodename) node_uname_info{job="node"}`;

/** Disk and memory of every host (node_exporter, a global Swarm service). */
function hostRules(t: AlertThresholds): AlertRule[] {
    const free = `node_filesystem_avail_bytes{${DATA_FS}} / node_filesystem_size_bytes{${DATA_FS}}`;
    return [
        {
            alert: "NodeDiskFillingUp",
            expr:
                `(\n    ${free} < ${t.diskFillFreeRatioMax}\n` +
                `    and predict_linear(node_filesystem_avail_bytes{${DATA_FS}}[${t.diskFillWindow}], ${t.diskFillHorizonHours} * 3600) < 0\n` +
                `    and node_filesystem_readonly{${DATA_FS}} == 0\n  ) ${WITH_NODENAME}`,
            for: t.diskFillFor,
            severity: "warning",
            summary: "Disk filling up",
            description: `{{ $labels.mountpoint }} on {{ $labels.nodename }} has less than ${+(t.diskFillFreeRatioMax * 100).toFixed(2)} % free and, at the rate of the last ${t.diskFillWindow}, fills within ${t.diskFillHorizonHours} h.`,
            comment:
                "predict_linear over the free bytes: a steady trend (WAL, AOF, TSDB, images) pages a day ahead, while the free-share " +
                "guard keeps a large, fresh disk's burst quiet. The node name comes from node_uname_info.",
        },
        {
            alert: "NodeDiskAlmostFull",
            expr: `(\n    ${free} < ${t.diskFreeRatioMin}\n    and node_filesystem_readonly{${DATA_FS}} == 0\n  ) ${WITH_NODENAME}`,
            for: t.diskFullFor,
            severity: "critical",
            summary: "Disk almost full",
            description: `{{ $labels.mountpoint }} on {{ $labels.nodename }} has less than ${+(t.diskFreeRatioMin * 100).toFixed(2)} % free: Postgres, etcd and Redis stop writing when it is full.`,
        },
        {
            alert: "NodeMemoryLow",
            expr: `(\n    node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"} < ${t.memoryAvailableRatioMin}\n  ) ${WITH_NODENAME}`,
            for: t.memoryLowFor,
            severity: "critical",
            summary: "Host memory low",
            description: `{{ $labels.nodename }} has had less than ${+(t.memoryAvailableRatioMin * 100).toFixed(2)} % of its memory available for ${t.memoryLowFor}: the kernel's OOM killer is next.`,
            comment: "MemAvailable (the kernel's estimate of what can be allocated without swapping), not MemFree, which page cache keeps low.",
        },
    ];
}

/** Renders alerts.yml. */
export function renderAlertRules(input: AlertRulesInput): string {
    const region = checkRegion("region", input.region);
    const role = checkRole("role", input.role);
    const t = alertThresholds(input.thresholds);
    const rules = alertRules(role, input.thresholds, input.postgresMembers);
    const doc = new Document({
        groups: [
            {
                name: ALERT_GROUP,
                rules: rules.map((r) => ({
                    alert: r.alert,
                    expr: r.expr,
                    ...(r.for ? { for: r.for } : {}),
                    labels: { severity: r.severity },
                    annotations: { summary: r.summary, description: r.description, runbook: runbookUrl(t.runbookBaseUrl, r.alert) },
                })),
            },
        ],
    });
    const group = doc.getIn(["groups", 0, "rules"], true);
    if (!isSeq(group)) throw new Error("internal: rules sequence missing");
    group.items.forEach((item, i) => {
        const c = rules[i].comment;
        if (c && isMap(item)) item.commentBefore = wrap(c, 100).map((l) => ` ${l}`).join("\n");
    });
    return `# Rendered by ops-center-ha renderers/alerts.ts for ${region} (${role}). Do not edit.\n` + doc.toString({ lineWidth: 0 });
}

/** Splits text into lines of at most `width` characters at spaces. */
function wrap(text: string, width: number): string[] {
    const lines: string[] = [];
    let cur = "";
    for (const w of text.split(/\s+/)) {
        if (cur && cur.length + 1 + w.length > width) {
            lines.push(cur);
            cur = w;
        } else {
            cur = cur ? `${cur} ${w}` : w;
        }
    }
    if (cur) lines.push(cur);
    return lines;
}
