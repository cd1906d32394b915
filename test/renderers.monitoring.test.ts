/**
 * Unit tests of the monitoring renderers: prometheus.yml (scrape jobs by Swarm DNS), alerts.yml (every
 * rule's expr, for and labels) and alertmanager.yml (severity routes, no secret, url_file or start script).
 * The real tools run in test/chaos/alerting.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { alertRules, renderAlertRules } from "../renderers/alerts";
import {
    alertmanagerVersionFromImage,
    renderAlertmanagerStartScript,
    renderAlertmanagerYml,
    webhookPlaceholder,
    webhookSecretMode,
} from "../renderers/alertmanager";
import { durationMs, MONITORING_DEFAULTS, PrometheusInput, renderPrometheusYml } from "../renderers/prometheus";

/** Parsed YAML, read loosely: the assertions check the shape. */
type Obj = Record<string, any>;

const base: PrometheusInput = { region: "us-east-1", role: "primary", edgeProbeUrls: ["http://203.0.113.10/ping"] };
const job = (doc: Obj, name: string): Obj | undefined => (doc.scrape_configs as Obj[]).find((j) => j.job_name === name);

describe("renderPrometheusYml", () => {
    const doc = parse(renderPrometheusYml(base)) as Obj;

    it("sets the intervals, the region/role external labels and the rules file", () => {
        assert.equal(doc.global.scrape_interval, "15s");
        assert.equal(doc.global.evaluation_interval, "15s");
        assert.deepEqual(doc.global.external_labels, { region: "us-east-1", role: "primary" });
        assert.deepEqual(doc.rule_files, [MONITORING_DEFAULTS.rulesPath]);
    });

    it("sends alerts to every Alertmanager task found by DNS", () => {
        assert.deepEqual(doc.alerting.alertmanagers[0].dns_sd_configs, [{ names: ["tasks.alertmanager"], type: "A", port: 9093 }]);
    });

    it("discovers each tier's Swarm tasks by DNS (tasks.<service>, type A) on its metrics port", () => {
        const expect: [string, string, number][] = [
            ["alertmanager", "tasks.alertmanager", 9093],
            ["traefik", "tasks.traefik", 8082],
            ["backend", "tasks.backend", 8084],
            ["patroni", "tasks.patroni", 8008],
            ["etcd", "tasks.etcd", 2379],
            ["postgres", "tasks.postgres-exporter", 9187],
            ["redis", "tasks.redis", 6379],
            ["redis_sentinel", "tasks.redis-sentinel", 26379],
        ];
        for (const [name, dns, port] of expect) {
            const j = job(doc, name);
            assert.ok(j, `job ${name} missing`);
            assert.deepEqual(j.dns_sd_configs, [{ names: [dns], type: "A", port }], name);
            assert.equal(j.relabel_configs[0].target_label, "swarm_service");
        }
        assert.equal(job(doc, "backend")!.metrics_path, "/metrics");
        assert.equal(job(doc, "patroni")!.metrics_path, "/metrics");
        assert.deepEqual(job(doc, "prometheus")!.static_configs, [{ targets: ["localhost:9090"] }]);
        assert.equal(job(doc, "frontend"), undefined, "nginx serving the SPA has no /metrics");
    });

    it("scrapes Redis and Sentinel through redis_exporter's /scrape?target=redis://<task>", () => {
        for (const name of ["redis", "redis_sentinel"]) {
            const j = job(doc, name)!;
            assert.equal(j.metrics_path, "/scrape");
            const rl = j.relabel_configs as Obj[];
            assert.deepEqual(rl[1], { source_labels: ["__address__"], target_label: "__param_target", replacement: "redis://$1" });
            assert.deepEqual(rl[2], { source_labels: ["__param_target"], target_label: "instance" });
            assert.deepEqual(rl[3], { target_label: "__address__", replacement: "redis-exporter:9121" });
        }
    });

    it("probes the edge VIP through blackbox_exporter", () => {
        const j = job(doc, "edge_vip")!;
        assert.equal(j.metrics_path, "/probe");
        assert.deepEqual(j.params, { module: ["http_2xx"] });
        assert.deepEqual(j.static_configs, [{ targets: ["http://203.0.113.10/ping"] }]);
        assert.deepEqual(j.relabel_configs[2], { target_label: "__address__", replacement: "blackbox-exporter:9115" });
    });

    it("has no Sentinel job in the standby region, and takes service names and ports as inputs", () => {
        const s = parse(
            renderPrometheusYml({ ...base, region: "us-west-2", role: "standby", scrapeInterval: "30s", patroni: { services: ["pg-1", "pg-2"], port: 8009 } }),
        ) as Obj;
        assert.equal(job(s, "redis_sentinel"), undefined);
        assert.deepEqual(s.global.external_labels, { region: "us-west-2", role: "standby" });
        assert.equal(s.global.scrape_interval, "30s");
        assert.deepEqual(job(s, "patroni")!.dns_sd_configs, [{ names: ["tasks.pg-1", "tasks.pg-2"], type: "A", port: 8009 }]);
    });

    it("rejects bad inputs, naming the field", () => {
        assert.throws(() => renderPrometheusYml({ ...base, region: "US East" }), /region: "US East" is not a region name/);
        assert.throws(() => renderPrometheusYml({ ...base, role: "backup" as never }), /role: "backup" is not a region role/);
        assert.throws(() => renderPrometheusYml({ ...base, scrapeInterval: "15" }), /scrapeInterval: "15" is not a Prometheus duration/);
        assert.throws(() => renderPrometheusYml({ ...base, backend: { services: [], port: 8084 } }), /backend.services: empty/);
        assert.throws(() => renderPrometheusYml({ ...base, backend: { services: ["backend"], port: 70000 } }), /backend.port: 70000 is not a TCP port/);
        assert.throws(() => renderPrometheusYml({ ...base, etcd: { services: ["tasks etcd"], port: 2379 } }), /etcd.services: "tasks etcd" is not a Swarm service name/);
        assert.throws(() => renderPrometheusYml({ ...base, edgeProbeUrls: [] }), /edgeProbeUrls: empty/);
        assert.throws(() => renderPrometheusYml({ ...base, edgeProbeUrls: ["203.0.113.10"] }), /edgeProbeUrls: "203.0.113.10" is not an http\(s\) URL/);
        assert.throws(() => renderPrometheusYml({ ...base, redisExporterAddress: "redis-exporter" }), /redisExporterAddress: "redis-exporter" is not host:port/);
    });
});

describe("renderAlertRules", () => {
    const text = renderAlertRules({ region: "us-east-1", role: "primary" });
    const group = (parse(text) as Obj).groups[0] as Obj;
    const rule = (name: string): Obj => {
        const r = (group.rules as Obj[]).find((x) => x.alert === name);
        assert.ok(r, `rule ${name} missing`);
        return r;
    };

    it("renders one group ops_center_ha with every rule of the data model", () => {
        assert.equal(group.name, "ops_center_ha");
        assert.deepEqual((group.rules as Obj[]).map((r) => r.alert), alertRules("primary").map((r) => r.alert));
    });

    it("keeps the design document's BackendDown and DatabaseConnectionPoolExhausted", () => {
        assert.equal(rule("BackendDown").expr, 'up{job="backend"} == 0');
        assert.equal(rule("BackendDown").for, "1m");
        assert.deepEqual(rule("BackendDown").labels, { severity: "critical" });
        assert.equal(rule("DatabaseConnectionPoolExhausted").expr, 'db_connections_active{job="backend"} > 8');
        assert.equal(rule("DatabaseConnectionPoolExhausted").for, "2m");
        assert.deepEqual(rule("DatabaseConnectionPoolExhausted").labels, { severity: "warning" });
    });

    it("fixes HighErrorRate to a ratio of 5xx to all requests, and says so in a comment", () => {
        const r = rule("HighErrorRate");
        assert.match(r.expr, /^sum by \(job\) \(rate\(http_requests_total\{job="backend",status=~"5\.\."\}\[5m\]\)\)\n {2}\/ sum by \(job\) \(rate\(http_requests_total\{job="backend"\}\[5m\]\)\)\n {2}> 0\.05$/);
        assert.equal(r.for, "2m");
        assert.deepEqual(r.labels, { severity: "critical" });
        assert.match(text, /# Fixed from the design document: rate\(http_requests_total\{status=~"5\.\."\}\[5m\]\) > 0\.05 is an absolute\n/);
    });

    it("alerts on the HA tiers with metrics their exporters really export", () => {
        const expect: [string, RegExp, string, string][] = [
            ["BackendUnavailable", /^absent\(up\{job="backend"\} == 1\)$/, "1m", "critical"],
            ["PatroniNoLeader", /^absent\(patroni_primary\{job="patroni"\} == 1\)$/, "1m", "critical"],
            ["PostgresReplicationLagHigh", /patroni_xlog_location\{job="patroni"\} and on \(instance\) patroni_primary\{job="patroni"\} == 1\)\n.*group_right.*\n.*patroni_xlog_received_location\{job="patroni"\} and on \(instance\) patroni_replica\{job="patroni"\} == 1\)\n {2}> 1048576$/, "2m", "warning"],
            ["WalArchivingStale", /^pg_stat_archiver_last_archive_age\{job="postgres"\} > 180\n {2}and on \(\)\n {2}max\(max_over_time\(patroni_xlog_location\{job="patroni"\}\[5m\]\) - min_over_time\(patroni_xlog_location\{job="patroni"\}\[5m\]\)\) > 0$/, "2m", "critical"],
            ["RedisNoMaster", /^\(count\(redis_instance_info\{job="redis",role="master"\}\) or vector\(0\)\) == 0$/, "1m", "critical"],
            ["RedisSentinelQuorumLost", /^max by \(master_name\) \(redis_sentinel_master_ok_sentinels\{job="redis_sentinel",master_name="opscenter"\}\) < 2\n {2}or absent\(redis_sentinel_master_ok_sentinels\{job="redis_sentinel",master_name="opscenter"\}\)$/, "1m", "critical"],
            ["EdgeVipDown", /^probe_success\{job="edge_vip"\} == 0$/, "1m", "critical"],
            ["TlsCertificateExpiringSoon", /^min by \(cn, sans, serial\) \(traefik_tls_certs_not_after\{job="traefik"\}\) - time\(\) < 14 \* 86400$/, "10m", "warning"],
            ["ScrapeTargetDown", /^up\{job!~"backend\|prometheus"\} == 0$/, "5m", "warning"],
        ];
        for (const [name, expr, forDur, severity] of expect) {
            const r = rule(name);
            assert.match(r.expr, expr, name);
            assert.equal(r.for, forDur, name);
            assert.deepEqual(r.labels, { severity }, name);
        }
    });

    it("gives every rule a summary, a description and a runbook README anchor", () => {
        for (const r of group.rules as Obj[]) {
            assert.deepEqual(Object.keys(r.annotations).sort(), ["description", "runbook", "summary"], r.alert);
            assert.equal(r.annotations.runbook, `README.md#alert-${(r.alert as string).toLowerCase()}`);
            assert.ok(r.annotations.summary.length > 0 && r.annotations.description.length > 0);
        }
    });

    it("standby region: watches the standby leader and drops what only the primary runs", () => {
        const names = alertRules("standby").map((r) => r.alert);
        for (const gone of ["PostgresReplicationLagHigh", "WalArchivingStale", "RedisNoMaster", "RedisSentinelQuorumLost"]) {
            assert.ok(!names.includes(gone), gone);
        }
        const s = (parse(renderAlertRules({ region: "us-west-2", role: "standby" })) as Obj).groups[0].rules as Obj[];
        assert.equal(s.find((r) => r.alert === "PatroniNoLeader")!.expr, 'absent(patroni_standby_leader{job="patroni"} == 1)');
    });

    it("counts the Patroni members: fewer replicas than members - 1 is a warning, in either region (issue 10)", () => {
        const r = rule("PostgresReplicasMissing");
        assert.equal(r.expr, '(count(patroni_replica{job="patroni"} == 1) or vector(0)) < 2');
        assert.equal(r.for, "5m");
        assert.deepEqual(r.labels, { severity: "warning" });
        const five = alertRules("primary", {}, 5).find((x) => x.alert === "PostgresReplicasMissing")!;
        assert.match(five.expr, /< 4$/);
        assert.ok(alertRules("standby").some((x) => x.alert === "PostgresReplicasMissing"), "the standby cluster's replicas cascade from its standby leader: same count");
        assert.throws(() => alertRules("primary", {}, 1), /postgresMembers: 1 is not allowed/);
    });

    it("takes thresholds as inputs and validates them", () => {
        const r = alertRules("primary", { replicationLagBytesMax: 16_777_216, errorRatioMax: 0.02, sentinelQuorum: 3, runbookBaseUrl: "https://example.com/README.md" });
        assert.match(r.find((x) => x.alert === "PostgresReplicationLagHigh")!.expr, /> 16777216$/);
        assert.match(r.find((x) => x.alert === "HighErrorRate")!.expr, /> 0\.02$/);
        assert.match(r.find((x) => x.alert === "RedisSentinelQuorumLost")!.expr, /\) < 3\n/);
        const t = renderAlertRules({ region: "us-east-1", role: "primary", thresholds: { runbookBaseUrl: "https://example.com/README.md" } });
        assert.match(t, /runbook: https:\/\/example.com\/README.md#alert-backenddown/);
        assert.throws(() => alertRules("primary", { errorRatioMax: 5 }), /thresholds.errorRatioMax: 5 is not allowed/);
        assert.throws(() => alertRules("primary", { backendDownFor: "one minute" }), /thresholds.backendDownFor: "one minute" is not a Prometheus duration/);
        assert.throws(() => alertRules("primary", { sentinelQuorum: 1.5 }), /thresholds.sentinelQuorum: 1.5 is not an integer/);
        assert.throws(() => alertRules("primary", { sentinelMasterName: 'a"b' }), /thresholds.sentinelMasterName/);
        assert.throws(() => renderAlertRules({ region: "us-east-1", role: "primary", thresholds: { runbookBaseUrl: "README.md#x" } }), /thresholds.runbookBaseUrl/);
    });
});

describe("renderAlertmanagerYml", () => {
    const input = { webhook: { urlSecret: "alertmanager_webhook_url" } };
    const doc = parse(renderAlertmanagerYml(input)) as Obj;

    it("production (Alertmanager 0.27): the webhook URL is read with url_file from /run/secrets", () => {
        assert.equal(webhookSecretMode(MONITORING_DEFAULTS.alertmanagerVersion), "url_file");
        for (const r of doc.receivers as Obj[]) {
            for (const w of (r.webhook_configs ?? []) as Obj[]) {
                assert.deepEqual(w, { url_file: "/run/secrets/alertmanager_webhook_url", send_resolved: true });
            }
        }
    });

    it("routes by severity: critical to the pager with a short group_wait, warning to its own receiver", () => {
        assert.equal(doc.route.receiver, "webhook");
        assert.deepEqual(doc.route.group_by, ["alertname", "region"]);
        const [crit, warn] = doc.route.routes as Obj[];
        assert.deepEqual(crit, { receiver: "critical", matchers: ['severity="critical"'], group_wait: "10s", repeat_interval: "1h" });
        assert.deepEqual(warn, { receiver: "warning", matchers: ['severity="warning"'], repeat_interval: "4h" });
        assert.deepEqual((doc.receivers as Obj[]).map((r) => r.name), ["webhook", "critical", "warning"]);
    });

    it("critical inhibits warning for the same alertname and instance", () => {
        assert.deepEqual(doc.inhibit_rules[0], { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "region", "instance"] });
        assert.deepEqual(doc.inhibit_rules[1].source_matchers, ['alertname="PatroniNoLeader"']);
    });

    it("e-mail: warnings go to e-mail, the SMTP password is read from a secret file", () => {
        const e = parse(
            renderAlertmanagerYml({ ...input, email: { to: "ops@example.com", from: "am@example.com", smarthost: "smtp.example.com:587", authUsername: "am", authPasswordSecret: "smtp_password" } }),
        ) as Obj;
        const warning = (e.receivers as Obj[]).find((r) => r.name === "warning")!;
        assert.equal(warning.webhook_configs, undefined);
        assert.equal(warning.email_configs[0].auth_password_file, "/run/secrets/smtp_password");
        assert.equal(warning.email_configs[0].auth_password, undefined);
        assert.equal(warning.email_configs[0].require_tls, true);
        assert.equal((e.receivers as Obj[]).find((r) => r.name === "critical")!.email_configs.length, 1);
    });

    it("Alertmanager 0.25 (no url_file): a placeholder URL in the file, and a start script that fills it from the secret", () => {
        assert.equal(webhookSecretMode("0.25.0"), "start_script");
        const old = { ...input, version: "0.25.0" };
        const d = parse(renderAlertmanagerYml(old)) as Obj;
        assert.deepEqual(d.receivers[0].webhook_configs[0], { url: webhookPlaceholder("alertmanager_webhook_url"), send_resolved: true });
        const sh = renderAlertmanagerStartScript(old);
        assert.match(sh, /^#!\/bin\/sh\n/);
        assert.match(sh, /^secret='\/run\/secrets\/alertmanager_webhook_url'$/m);
        assert.match(sh, /^template='\/etc\/alertmanager\/alertmanager.yml'$/m);
        assert.match(sh, /^out='\/alertmanager\/alertmanager.yml'$/m);
        assert.match(sh, /^umask 077$/m);
        assert.match(sh, /^exec '\/bin\/alertmanager' --config.file="\$out" "\$@"$/m);
        assert.throws(() => renderAlertmanagerStartScript(input), /version: Alertmanager 0.27.0 reads the webhook URL with url_file/);
    });

    it("rejects bad inputs, naming the field", () => {
        assert.throws(() => renderAlertmanagerYml({ webhook: { urlSecret: "../etc/passwd" } }), /webhook.urlSecret: "..\/etc\/passwd" is not a Swarm secret name/);
        assert.throws(() => renderAlertmanagerYml({ ...input, version: "latest" }), /version: "latest" is not an Alertmanager version/);
        assert.throws(() => renderAlertmanagerYml({ ...input, groupWait: "soon" }), /groupWait: "soon" is not a Prometheus duration/);
        assert.throws(() => renderAlertmanagerYml({ ...input, secretsDir: "run/secrets" }), /secretsDir: "run\/secrets" is not an absolute path/);
        assert.throws(
            () => renderAlertmanagerYml({ ...input, email: { to: "ops@example.com", from: "am@example.com", smarthost: "smtp.example.com:587", authUsername: "am" } }),
            /email.authUsername \/ email.authPasswordSecret: give both/,
        );
        assert.throws(() => renderAlertmanagerYml({ ...input, email: { to: "ops", from: "am@example.com", smarthost: "smtp:25" } }), /email.to: "ops" is not an e-mail address/);
    });

    it("reads the version from the pinned image tag", () => {
        assert.equal(alertmanagerVersionFromImage("prom/alertmanager:v0.27.0"), MONITORING_DEFAULTS.alertmanagerVersion);
        assert.equal(alertmanagerVersionFromImage("quay.io/prometheus/alertmanager:v0.25.0"), "0.25.0");
        assert.throws(() => alertmanagerVersionFromImage("prom/alertmanager:latest"), /alertmanagerImage: "prom\/alertmanager:latest" has no version tag/);
    });

    it("durations: the defaults parse", () => {
        assert.equal(durationMs(MONITORING_DEFAULTS.notify.criticalGroupWait), 10_000);
        assert.equal(durationMs("1h30m"), 5_400_000);
    });
});
