/**
 * prometheus.yml for the Prometheus Swarm service of one region.
 *
 * Every Swarm task is discovered by DNS (`tasks.<service>`, type A), so Prometheus needs no Docker
 * socket. Exporters are reached the same way: redis_exporter and blackbox_exporter in their
 * multi-target form (`/scrape?target=`, `/probe?target=`), so one exporter task serves every target.
 * Pure: no Pulumi, no I/O.
 */
import { stringify } from "yaml";

/** Region role: the standby region runs no Sentinel and no Redis master of its own (DESIGN.md fix 7). */
export type RegionRole = "primary" | "standby";

/** Swarm services scraped by one job, and the port of their metrics endpoint. */
export interface ScrapeTarget {
    /** Swarm service names; each is resolved as `tasks.<name>` (one A record per running task). */
    readonly services: readonly string[];
    /** Port of the metrics endpoint (or of the daemon an exporter probes) on every task. */
    readonly port: number;
}

/** Production defaults shared by the Pulumi monitoring component and the tests. */
export const MONITORING_DEFAULTS = {
    /** How often every target is scraped. */
    scrapeInterval: "15s",
    /** How often alert rules are evaluated. */
    evaluationInterval: "15s",
    /** Where the Swarm config holding the rendered alerts.yml is mounted in the Prometheus container. */
    rulesPath: "/etc/prometheus/alerts.yml",
    /** Prometheus' own listen port (scraped as localhost). */
    prometheusPort: 9090,
    /**
     * Version of the production Alertmanager image (config key alertmanagerImage, prom/alertmanager:v0.27.0);
     * decides how the webhook URL secret is delivered (alertmanager.ts). Derive it with alertmanagerVersionFromImage().
     */
    alertmanagerVersion: "0.27.0",
    alertmanager: { services: ["alertmanager"], port: 9093 },
    /** Traefik's dedicated `metrics` entrypoint (`--metrics.prometheus.entryPoint=metrics`). */
    traefik: { services: ["traefik"], port: 8082 },
    /** Backend tasks serve `/metrics` on their application port. */
    backend: { services: ["backend"], port: 8084 },
    /** Patroni's REST API serves `/metrics` on every member. */
    patroni: { services: ["patroni"], port: 8008 },
    etcd: { services: ["etcd"], port: 2379 },
    /** postgres_exporter connected to the leader endpoint: `pg_stat_archiver_*` for the WAL archive alert. */
    postgresExporter: { services: ["postgres-exporter"], port: 9187 },
    /** node_exporter, a global service (every host): disk, memory and CPU of the hosts. */
    nodeExporter: { services: ["node-exporter"], port: 9100 },
    /** Redis nodes, probed through redis_exporter's multi-target `/scrape` endpoint. */
    redis: { services: ["redis"], port: 6379 },
    /** Sentinels, probed the same way (primary region only). */
    sentinel: { services: ["redis-sentinel"], port: 26379 },
    /** redis_exporter service (`host:port` of its Swarm service VIP). */
    redisExporterAddress: "redis-exporter:9121",
    /** blackbox_exporter service and the module of its default config that probes an HTTP URL for a 2xx. */
    blackboxExporterAddress: "blackbox-exporter:9115",
    blackboxModule: "http_2xx",
    /** Alert thresholds and durations (renderers/alerts.ts). */
    alerts: {
        /** Link target of every rule's `runbook` annotation; the anchor is `#alert-<alertname lower-case>`. */
        runbookBaseUrl: "README.md",
        backendDownFor: "1m",
        /** Active DB connections per backend task (the design's pool of 10, alert at 8). */
        dbConnectionsMax: 8,
        dbConnectionsFor: "2m",
        /** Share of backend requests answered 5xx (0.05 = 5 %). */
        errorRatioMax: 0.05,
        errorRateWindow: "5m",
        errorRateFor: "2m",
        /** Longer than a Patroni failover (ttl 20 s + loop_wait) so that a normal failover stays silent. */
        noLeaderFor: "1m",
        /** Bytes a replica may trail the leader: Patroni's maximum_lag_on_failover (a replica beyond it may not be promoted). */
        replicationLagBytesMax: 1_048_576,
        replicationLagFor: "2m",
        /** Longer than a failover plus a rejoin (pg_rewind, WAL replay): only a member that stays away warns. */
        replicasMissingFor: "5m",
        /** No WAL archived for this long (s) while WAL is written, for `walArchiveFor`: fires at 3 min + 2 min = the 5 min RPO. */
        walArchiveAgeMaxSeconds: 180,
        walArchiveFor: "2m",
        /** Window in which WAL must have been written for a stale archive to count (an idle primary archives nothing). */
        walActivityWindow: "5m",
        /** Longer than a Sentinel failover (down-after 5 s + election) so that a normal failover stays silent. */
        redisNoMasterFor: "1m",
        /** Name the sentinels monitor the master under (REDIS_DEFAULTS.masterName). */
        sentinelMasterName: "opscenter",
        /** Sentinels that must agree before a failover (REDIS_DEFAULTS.quorum). */
        sentinelQuorum: 2,
        sentinelQuorumFor: "1m",
        edgeDownFor: "1m",
        /** Certificates are renewed 30 days before expiry; 14 days left means renewal failed. */
        certExpiryDays: 14,
        certExpiryFor: "10m",
        /** Any other scrape target (exporters, Patroni, etcd, Traefik, Alertmanager) unreachable this long. */
        targetDownFor: "5m",
        /** Disk filling: the free-space trend over this window... */
        diskFillWindow: "6h",
        /** ...projected this many hours ahead reaches 0 (a day: time to grow the volume in working hours). */
        diskFillHorizonHours: 24,
        /** Only file systems with less than this share free count as filling (a fresh, large disk's burst does not page). */
        diskFillFreeRatioMax: 0.4,
        diskFillFor: "30m",
        /** Share of a file system free below which it is almost full: Postgres, etcd and Redis stop writing at 0. */
        diskFreeRatioMin: 0.1,
        diskFullFor: "5m",
        /** Share of a host's memory available (MemAvailable) below which the OOM killer is near. */
        memoryAvailableRatioMin: 0.1,
        memoryLowFor: "5m",
    },
    /** Alertmanager routing (renderers/alertmanager.ts). */
    notify: {
        /** Directory where Swarm mounts secrets in the Alertmanager container. */
        secretsDir: "/run/secrets",
        /** Where the Swarm config with the rendered alertmanager.yml is mounted (read-only). */
        configPath: "/etc/alertmanager/alertmanager.yml",
        /** Writable copy written by the start script (Alertmanager < 0.26 only); on the data volume. */
        generatedConfigPath: "/alertmanager/alertmanager.yml",
        /** Alertmanager binary in the official image. */
        binary: "/bin/alertmanager",
        groupWait: "30s",
        groupInterval: "5m",
        criticalGroupWait: "10s",
        criticalRepeatInterval: "1h",
        warningRepeatInterval: "4h",
        resolveTimeout: "5m",
    },
} as const;

/** Input of {@link renderPrometheusYml}. Fields left out take {@link MONITORING_DEFAULTS}. */
export interface PrometheusInput {
    /** AWS region of this stack, attached to every series and alert as `region`. */
    readonly region: string;
    /** Role of the region, attached as `role`; the standby region has no Sentinel job. */
    readonly role: RegionRole;
    /** Scrape interval (Prometheus duration, e.g. "15s"). */
    readonly scrapeInterval?: string;
    /** Rule evaluation interval (Prometheus duration). */
    readonly evaluationInterval?: string;
    /** Paths of the rule files, as mounted in the Prometheus container. */
    readonly ruleFiles?: readonly string[];
    /** Prometheus' own port, scraped on localhost. */
    readonly prometheusPort?: number;
    /** Alertmanager tasks (alerts are sent to each of them, and they are scraped). */
    readonly alertmanager?: ScrapeTarget;
    /** Traefik tasks and their metrics entrypoint port. */
    readonly traefik?: ScrapeTarget;
    /** Backend tasks and their `/metrics` port. */
    readonly backend?: ScrapeTarget;
    /** Patroni members and their REST API port. */
    readonly patroni?: ScrapeTarget;
    /** etcd members and their client port (serves `/metrics`). */
    readonly etcd?: ScrapeTarget;
    /** postgres_exporter tasks and their port. */
    readonly postgresExporter?: ScrapeTarget;
    /** node_exporter tasks (a global service: one per Swarm node) and their port. */
    readonly nodeExporter?: ScrapeTarget;
    /** Redis nodes (probed through redis_exporter). */
    readonly redis?: ScrapeTarget;
    /** Sentinels (probed through redis_exporter; ignored in the standby region). */
    readonly sentinel?: ScrapeTarget;
    /** `host:port` of redis_exporter. */
    readonly redisExporterAddress?: string;
    /** `host:port` of blackbox_exporter. */
    readonly blackboxExporterAddress?: string;
    /** blackbox_exporter module used for the edge probe. */
    readonly blackboxModule?: string;
    /** URLs probed through the edge VIP (e.g. `http://<elastic-ip>/ping`); at least one. */
    readonly edgeProbeUrls: readonly string[];
}

const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const HOSTPORT = /^[a-zA-Z0-9][a-zA-Z0-9.-]*:[0-9]{1,5}$/;

/** Throws unless `v` is a Prometheus duration; returns it. */
export function checkDuration(field: string, v: string): string {
    if (!DURATION.test(v)) {
        throw new Error(`${field}: ${JSON.stringify(v)} is not a Prometheus duration (e.g. "15s", "1m", "2h")`);
    }
    return v;
}

/** Milliseconds of a Prometheus duration (already checked). */
export function durationMs(v: string): number {
    const unit: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5, y: 31536e6 };
    let total = 0;
    for (const m of v.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * unit[m[2]];
    return total;
}

/** Throws unless `v` is an integer TCP port (1..65535). */
export function checkPortNumber(field: string, v: number): number {
    if (!Number.isInteger(v) || v < 1 || v > 65535) {
        throw new Error(`${field}: ${v} is not a TCP port (an integer 1..65535)`);
    }
    return v;
}

/** Throws unless `v` is a region role. */
export function checkRole(field: string, v: string): RegionRole {
    if (v !== "primary" && v !== "standby") {
        throw new Error(`${field}: ${JSON.stringify(v)} is not a region role ("primary" or "standby")`);
    }
    return v;
}

/** Throws unless `v` looks like an AWS region name (lower-case letters, digits, dashes). */
export function checkRegion(field: string, v: string): string {
    if (!/^[a-z]{2}(-[a-z0-9]+)+$/.test(v)) {
        throw new Error(`${field}: ${JSON.stringify(v)} is not a region name (e.g. "us-east-1")`);
    }
    return v;
}

function checkTarget(field: string, t: ScrapeTarget): ScrapeTarget {
    if (t.services.length === 0) throw new Error(`${field}.services: empty; at least one Swarm service name is required`);
    for (const s of t.services) {
        if (!SERVICE.test(s)) {
            throw new Error(`${field}.services: ${JSON.stringify(s)} is not a Swarm service name ([a-zA-Z0-9_.-], at most 63 characters)`);
        }
    }
    checkPortNumber(`${field}.port`, t.port);
    return t;
}

function checkHostPort(field: string, v: string): string {
    if (!HOSTPORT.test(v)) throw new Error(`${field}: ${JSON.stringify(v)} is not host:port`);
    checkPortNumber(field, Number(v.split(":")[1]));
    return v;
}

/** DNS service discovery of every task of `t`, with the Swarm service name kept as a label. */
function dnsJob(jobName: string, t: ScrapeTarget, metricsPath = "/metrics", relabel: Record<string, unknown>[] = []): Record<string, unknown> {
    return {
        job_name: jobName,
        metrics_path: metricsPath,
        dns_sd_configs: [{ names: t.services.map((s) => `tasks.${s}`), type: "A", port: t.port }],
        relabel_configs: [
            // tasks.<service> -> swarm_service="<service>", so alerts name the service, not only a task IP.
            { source_labels: ["__meta_dns_name"], regex: "tasks\\.(.+)", target_label: "swarm_service", replacement: "$1" },
            ...relabel,
        ],
    };
}

/** Relabelling of the exporters' multi-target pattern: scrape the exporter, pass the target as a parameter. */
function multiTarget(exporter: string, targetPrefix: string): Record<string, unknown>[] {
    return [
        { source_labels: ["__address__"], target_label: "__param_target", replacement: `${targetPrefix}$1` },
        { source_labels: ["__param_target"], target_label: "instance" },
        { target_label: "__address__", replacement: exporter },
    ];
}

/** Renders prometheus.yml. */
export function renderPrometheusYml(input: PrometheusInput): string {
    const d = MONITORING_DEFAULTS;
    const region = checkRegion("region", input.region);
    const role = checkRole("role", input.role);
    const scrapeInterval = checkDuration("scrapeInterval", input.scrapeInterval ?? d.scrapeInterval);
    const evaluationInterval = checkDuration("evaluationInterval", input.evaluationInterval ?? d.evaluationInterval);
    const ruleFiles = input.ruleFiles ?? [d.rulesPath];
    if (ruleFiles.length === 0) throw new Error("ruleFiles: empty; the alert rules file must be loaded");
    for (const f of ruleFiles) {
        if (!f.startsWith("/") && !/^[\w.-]+$/.test(f)) throw new Error(`ruleFiles: ${JSON.stringify(f)} is neither an absolute path nor a file name`);
    }
    const promPort = checkPortNumber("prometheusPort", input.prometheusPort ?? d.prometheusPort);
    const am = checkTarget("alertmanager", input.alertmanager ?? d.alertmanager);
    const traefik = checkTarget("traefik", input.traefik ?? d.traefik);
    const backend = checkTarget("backend", input.backend ?? d.backend);
    const patroni = checkTarget("patroni", input.patroni ?? d.patroni);
    const etcd = checkTarget("etcd", input.etcd ?? d.etcd);
    const pgExporter = checkTarget("postgresExporter", input.postgresExporter ?? d.postgresExporter);
    const nodeExporter = checkTarget("nodeExporter", input.nodeExporter ?? d.nodeExporter);
    const redis = checkTarget("redis", input.redis ?? d.redis);
    const sentinel = checkTarget("sentinel", input.sentinel ?? d.sentinel);
    const redisExporter = checkHostPort("redisExporterAddress", input.redisExporterAddress ?? d.redisExporterAddress);
    const blackbox = checkHostPort("blackboxExporterAddress", input.blackboxExporterAddress ?? d.blackboxExporterAddress);
    const module = input.blackboxModule ?? d.blackboxModule;
    if (!/^[\w-]+$/.test(module)) throw new Error(`blackboxModule: ${JSON.stringify(module)} is not a module name ([A-Za-z0-9_-])`);
    if (input.edgeProbeUrls.length === 0) throw new Error("edgeProbeUrls: empty; give at least one URL served through the edge VIP");
    for (const u of input.edgeProbeUrls) {
        if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(u)) throw new Error(`edgeProbeUrls: ${JSON.stringify(u)} is not an http(s) URL`);
    }

    const scrapeConfigs: Record<string, unknown>[] = [
        { job_name: "prometheus", static_configs: [{ targets: [`localhost:${promPort}`] }] },
        dnsJob("alertmanager", am),
        dnsJob("traefik", traefik),
        dnsJob("backend", backend),
        // The frontend is nginx serving a static SPA: it has no /metrics. Its request and error rates
        // come from Traefik's per-service metrics (traefik_service_requests_total), its health from Traefik's checks.
        dnsJob("patroni", patroni),
        dnsJob("etcd", etcd),
        dnsJob("postgres", pgExporter),
        dnsJob("node", nodeExporter),
        dnsJob("redis", redis, "/scrape", multiTarget(redisExporter, "redis://")),
    ];
    if (role === "primary") {
        scrapeConfigs.push(
            dnsJob("redis_sentinel", sentinel, "/scrape", multiTarget(redisExporter, "redis://")),
        );
    }
    scrapeConfigs.push({
        job_name: "edge_vip",
        metrics_path: "/probe",
        params: { module: [module] },
        static_configs: [{ targets: [...input.edgeProbeUrls] }],
        relabel_configs: multiTarget(blackbox, ""),
    });

    const doc = {
        global: {
            scrape_interval: scrapeInterval,
            evaluation_interval: evaluationInterval,
            external_labels: { region, role },
        },
        rule_files: [...ruleFiles],
        alerting: {
            alertmanagers: [{ dns_sd_configs: [{ names: am.services.map((s) => `tasks.${s}`), type: "A", port: am.port }] }],
        },
        scrape_configs: scrapeConfigs,
    };
    return `# Rendered by ops-center-ha renderers/prometheus.ts for ${region} (${role}). Do not edit.\n` + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
