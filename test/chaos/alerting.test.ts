/**
 * The rendered monitoring files against the real tools of Debian 12: promtool (Prometheus 2.42) checks
 * prometheus.yml and alerts.yml and runs a `promtool test rules` case for every alert rule (fires with
 * the expected labels and annotations, stays silent below the threshold or when not held long enough);
 * amtool (Alertmanager 0.25) checks alertmanager.yml and its routing; then a real Alertmanager, started
 * the way production starts it, delivers an alert to a local webhook whose URL only a secret file holds.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { alertRules, AlertRule, renderAlertRules, runbookUrl } from "../../renderers/alerts";
import { renderAlertmanagerStartScript, renderAlertmanagerYml, webhookSecretMode } from "../../renderers/alertmanager";
import { durationMs, MONITORING_DEFAULTS, RegionRole, renderPrometheusYml } from "../../renderers/prometheus";
import { requireBinaries, run, scratchDir, startDaemon, stopAll, waitFor } from "./support";

const T = MONITORING_DEFAULTS.alerts;
/** Whole minutes of a duration, rounded up: promtool series here have one sample a minute. */
const min = (d: string) => Math.ceil(durationMs(d) / 60_000);

type Labels = Record<string, string>;
interface Case { alert: string; series: [string, string][]; evalMin: number; fires: Labels[] }

/** The expected alert: the rule's severity and annotations, with `{{ $labels.x }}` expanded as Prometheus would. */
function expected(rule: AlertRule, labels: Labels) {
    const expand = (s: string) => s.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? "");
    return {
        exp_labels: { ...labels, severity: rule.severity },
        exp_annotations: { summary: expand(rule.summary), description: expand(rule.description), runbook: runbookUrl(T.runbookBaseUrl, rule.alert) },
    };
}

const be = { job: "backend", instance: "10.0.1.5:8084", swarm_service: "backend" };
const sel = (name: string, l: Labels) => `${name}{${Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
const pg = (i: number) => ({ job: "patroni", instance: `10.0.4.${i}:8008`, scope: "ops-center" });
const sentinel = (i: number) => ({ job: "redis_sentinel", instance: `redis://10.0.2.${i}:26379`, master_name: T.sentinelMasterName, master_address: "10.0.2.1:6379" });
const redisInfo = (i: number, role: string) => sel("redis_instance_info", { job: "redis", instance: `redis://10.0.2.${i}:6379`, role });
const reqs = (status: string, perMin: number) => [sel("http_requests_total", { job: "backend", instance: be.instance, method: "GET", endpoint: "/api", status }), `0+${perMin}x15`] as [string, string];
const cert = { cn: "ops.example.com", sans: "ops.example.com", serial: "42" };
const certSeries = (days: number) => [sel("traefik_tls_certs_not_after", { job: "traefik", instance: "10.0.3.1:8082", ...cert }), `${days * 86400}x30`] as [string, string];
const lagSeries = (receivedOnReplica: number): [string, string][] => [
    [sel("patroni_primary", pg(1)), "1x10"], [sel("patroni_replica", pg(1)), "0x10"],
    [sel("patroni_primary", pg(2)), "0x10"], [sel("patroni_replica", pg(2)), "1x10"],
    [sel("patroni_xlog_location", pg(1)), "100000000x10"], [sel("patroni_xlog_location", pg(2)), "0x10"],
    // The primary reports 0 received: it must not count as a lagging replica.
    [sel("patroni_xlog_received_location", pg(1)), "0x10"], [sel("patroni_xlog_received_location", pg(2)), `${receivedOnReplica}x10`],
];
const archive = { job: "postgres", instance: "10.0.4.9:9187", swarm_service: "postgres-exporter" };
const walSeries = (ageStep: number, walStep: number): [string, string][] => [
    [sel("pg_stat_archiver_last_archive_age", archive), `0+${ageStep}x15`],
    [sel("patroni_xlog_location", pg(1)), `1000+${walStep}x15`],
];

const node = { job: "node", instance: "10.0.5.7:9100", swarm_service: "opscenter-node-exporter" };
const rootFs = { ...node, device: "/dev/nvme0n1p1", fstype: "ext4", mountpoint: "/" };
const uname = [sel("node_uname_info", { ...node, nodename: "data-0", sysname: "Linux" }), "1x400"] as [string, string];
/** A 100 GB file system: `avail` bytes free, changing by `step` bytes a minute, and its size and read-only flag. */
const disk = (avail: number, step: number, labels: Labels = rootFs): [string, string][] => [
    [sel("node_filesystem_avail_bytes", labels), `${avail}${step < 0 ? "-" : "+"}${Math.abs(step)}x400`],
    [sel("node_filesystem_size_bytes", labels), "100000000000x400"],
    [sel("node_filesystem_readonly", labels), "0x400"],
    uname,
];
const memory = (available: number): [string, string][] => [
    [sel("node_memory_MemAvailable_bytes", node), `${available}x20`],
    [sel("node_memory_MemTotal_bytes", node), "8000000000x20"],
    uname,
];
const GB = 1e9;

/** At least one firing and one silent case per rule of the primary region. */
function primaryCases(): Case[] {
    const lag = T.replicationLagBytesMax;
    const walFire = Math.ceil(T.walArchiveAgeMaxSeconds / 60) + 1 + min(T.walArchiveFor) + 1;
    return [
        { alert: "BackendDown", series: [[sel("up", be), "1 0x8"]], evalMin: 1 + min(T.backendDownFor) + 1, fires: [be] },
        { alert: "BackendDown", series: [[sel("up", be), "1 0 1x8"]], evalMin: 2, fires: [] }, // down for less than `for`
        { alert: "BackendDown", series: [[sel("up", be), "1 0 1x8"]], evalMin: 5, fires: [] },
        { alert: "BackendUnavailable", series: [[sel("up", be), "0x8"], [sel("up", { ...be, instance: "10.0.1.6:8084" }), "0x8"]], evalMin: 3, fires: [{}] },
        { alert: "BackendUnavailable", series: [[sel("up", be), "0x8"], [sel("up", { ...be, instance: "10.0.1.6:8084" }), "1x8"]], evalMin: 3, fires: [] },
        { alert: "DatabaseConnectionPoolExhausted", series: [[sel("db_connections_active", be), `${T.dbConnectionsMax + 1}x8`]], evalMin: min(T.dbConnectionsFor) + 1, fires: [be] },
        { alert: "DatabaseConnectionPoolExhausted", series: [[sel("db_connections_active", be), `${T.dbConnectionsMax}x8`]], evalMin: min(T.dbConnectionsFor) + 1, fires: [] },
        // 1 error a minute in 5 requests: the design's absolute rule (0.017/s < 0.05/s) misses a 20 % error ratio.
        { alert: "HighErrorRate", series: [reqs("200", 4), reqs("500", 1)], evalMin: 1 + min(T.errorRateFor) + 2, fires: [{ job: "backend" }] },
        // 4 errors a minute in 200: the absolute rule (0.067/s) would page for a 2 % ratio.
        { alert: "HighErrorRate", series: [reqs("200", 196), reqs("500", 4)], evalMin: 10, fires: [] },
        { alert: "HighErrorRate", series: [reqs("200", 0)], evalMin: 10, fires: [] }, // no traffic: 0/0
        { alert: "PatroniNoLeader", series: [[sel("patroni_primary", pg(1)), "0x8"], [sel("patroni_primary", pg(2)), "0x8"]], evalMin: min(T.noLeaderFor) + 1, fires: [{}] },
        { alert: "PatroniNoLeader", series: [], evalMin: min(T.noLeaderFor) + 1, fires: [{}] }, // no member answers
        // A failover: no leader at one evaluation only.
        { alert: "PatroniNoLeader", series: [[sel("patroni_primary", pg(1)), "1 1 0 0 0 0"], [sel("patroni_primary", pg(2)), "0 0 0 1 1 1"]], evalMin: 2, fires: [] },
        { alert: "PatroniNoLeader", series: [[sel("patroni_primary", pg(1)), "1 1 0 0 0 0"], [sel("patroni_primary", pg(2)), "0 0 0 1 1 1"]], evalMin: 4, fires: [] },
        // Three members: one replica left for longer than `for` warns; two replicas, or a member away for 2 minutes, do not.
        { alert: "PostgresReplicasMissing", series: [[sel("patroni_replica", pg(1)), "0x10"], [sel("patroni_replica", pg(2)), "1x10"], [sel("patroni_replica", pg(3)), "0x10"]], evalMin: min(T.replicasMissingFor) + 1, fires: [{}] },
        { alert: "PostgresReplicasMissing", series: [[sel("patroni_replica", pg(1)), "0x10"], [sel("patroni_replica", pg(2)), "1x10"], [sel("patroni_replica", pg(3)), "1x10"]], evalMin: min(T.replicasMissingFor) + 1, fires: [] },
        { alert: "PostgresReplicasMissing", series: [[sel("patroni_replica", pg(1)), "0x10"], [sel("patroni_replica", pg(2)), "1x10"], [sel("patroni_replica", pg(3)), "1 0 0 1x7"]], evalMin: min(T.replicasMissingFor) + 1, fires: [] },
        { alert: "PostgresReplicationLagHigh", series: lagSeries(100_000_000 - lag - 1), evalMin: min(T.replicationLagFor) + 1, fires: [pg(2)] },
        { alert: "PostgresReplicationLagHigh", series: lagSeries(100_000_000 - lag), evalMin: min(T.replicationLagFor) + 1, fires: [] },
        { alert: "WalArchivingStale", series: walSeries(60, 1000), evalMin: walFire, fires: [archive] },
        { alert: "WalArchivingStale", series: walSeries(60, 0), evalMin: walFire, fires: [] }, // idle primary: nothing to archive
        { alert: "WalArchivingStale", series: [[sel("pg_stat_archiver_last_archive_age", archive), "30x15"], walSeries(60, 1000)[1]], evalMin: walFire, fires: [] },
        { alert: "RedisNoMaster", series: [[redisInfo(1, "slave"), "1x8"], [redisInfo(2, "slave"), "1x8"]], evalMin: min(T.redisNoMasterFor) + 1, fires: [{}] },
        // A Sentinel failover: redis 1 (master) dies at 2m, redis 2 is master from 3m.
        {
            alert: "RedisNoMaster",
            series: [[redisInfo(1, "master"), "1 1 stale"], [redisInfo(2, "slave"), "1 1 1 stale"], [redisInfo(2, "master"), "_ _ _ 1x5"]],
            evalMin: 4,
            fires: [],
        },
        { alert: "RedisSentinelQuorumLost", series: [[sel("redis_sentinel_master_ok_sentinels", sentinel(1)), `${T.sentinelQuorum - 1}x8`]], evalMin: min(T.sentinelQuorumFor) + 1, fires: [{ master_name: T.sentinelMasterName }] },
        { alert: "RedisSentinelQuorumLost", series: [], evalMin: min(T.sentinelQuorumFor) + 1, fires: [{ job: "redis_sentinel", master_name: T.sentinelMasterName }] },
        { alert: "RedisSentinelQuorumLost", series: [[sel("redis_sentinel_master_ok_sentinels", sentinel(1)), `${T.sentinelQuorum}x8`], [sel("redis_sentinel_master_ok_sentinels", sentinel(2)), `${T.sentinelQuorum - 1}x8`]], evalMin: 4, fires: [] },
        { alert: "EdgeVipDown", series: [[sel("probe_success", { job: "edge_vip", instance: "http://203.0.113.10/ping" }), "1 0x8"]], evalMin: min(T.edgeDownFor) + 2, fires: [{ job: "edge_vip", instance: "http://203.0.113.10/ping" }] },
        { alert: "EdgeVipDown", series: [[sel("probe_success", { job: "edge_vip", instance: "http://203.0.113.10/ping" }), "1 0 1x8"]], evalMin: 4, fires: [] },
        { alert: "TlsCertificateExpiringSoon", series: [certSeries(T.certExpiryDays - 1)], evalMin: min(T.certExpiryFor) + 1, fires: [cert] },
        { alert: "TlsCertificateExpiringSoon", series: [certSeries(T.certExpiryDays + 1)], evalMin: min(T.certExpiryFor) + 1, fires: [] },
        // 30 GB free of 100, losing 100 MB a minute (6 GB/h): empty in 5 h, well within a day.
        { alert: "NodeDiskFillingUp", series: disk(30 * GB, -0.1 * GB), evalMin: min(T.diskFillFor) + 2, fires: [{ ...rootFs, nodename: "data-0" }] },
        // 30 GB free, losing 10 MB a minute (14.4 GB/day): not full within a day.
        { alert: "NodeDiskFillingUp", series: disk(30 * GB, -0.01 * GB), evalMin: 120, fires: [] },
        // 80 GB free, losing fast: above the free-share guard, no page yet.
        { alert: "NodeDiskFillingUp", series: disk(80 * GB, -0.1 * GB), evalMin: min(T.diskFillFor) + 2, fires: [] },
        // A Docker container's overlay mount is no data file system.
        { alert: "NodeDiskFillingUp", series: disk(30 * GB, -0.1 * GB, { ...rootFs, fstype: "overlay", mountpoint: "/var/lib/docker/overlay2/x/merged" }), evalMin: min(T.diskFillFor) + 2, fires: [] },
        { alert: "NodeDiskAlmostFull", series: disk(5 * GB, 0), evalMin: min(T.diskFullFor) + 1, fires: [{ ...rootFs, nodename: "data-0" }] },
        { alert: "NodeDiskAlmostFull", series: disk(15 * GB, 0), evalMin: min(T.diskFullFor) + 1, fires: [] },
        { alert: "NodeMemoryLow", series: memory(0.5 * GB), evalMin: min(T.memoryLowFor) + 1, fires: [{ ...node, nodename: "data-0" }] },
        { alert: "NodeMemoryLow", series: memory(2 * GB), evalMin: min(T.memoryLowFor) + 1, fires: [] },
        { alert: "ScrapeTargetDown", series: [[sel("up", { job: "redis", instance: "redis://10.0.2.1:6379" }), "0x10"]], evalMin: min(T.targetDownFor) + 1, fires: [{ job: "redis", instance: "redis://10.0.2.1:6379" }] },
        { alert: "ScrapeTargetDown", series: [[sel("up", be), "0x10"], [sel("up", pg(1)), "0 0 1x8"]], evalMin: min(T.targetDownFor) + 1, fires: [] },
    ];
}

/** The standby region watches the standby leader (patroni_standby_leader), not a primary. */
function standbyCases(): Case[] {
    return [
        { alert: "PatroniNoLeader", series: [[sel("patroni_standby_leader", pg(1)), "0x8"], [sel("patroni_primary", pg(1)), "0x8"]], evalMin: min(T.noLeaderFor) + 1, fires: [{}] },
        { alert: "PatroniNoLeader", series: [[sel("patroni_standby_leader", pg(1)), "1x8"], [sel("patroni_primary", pg(1)), "0x8"]], evalMin: 4, fires: [] },
    ];
}

/** The `promtool test rules` file: one test group per case, against the rendered rules file. */
function promtoolTests(rulesFile: string, role: RegionRole, cases: Case[]): string {
    const rules = new Map(alertRules(role).map((r) => [r.alert, r]));
    return stringify({
        rule_files: [rulesFile],
        evaluation_interval: "1m",
        tests: cases.map((c) => ({
            interval: "1m",
            input_series: c.series.map(([series, values]) => ({ series, values })),
            alert_rule_test: [{ eval_time: `${c.evalMin}m`, alertname: c.alert, exp_alerts: c.fires.map((l) => expected(rules.get(c.alert)!, l)) }],
        })),
    });
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

describe("monitoring: rendered files validated by promtool and amtool", () => {
    let dir = "";
    const received: { url: string; body: string }[] = [];
    let hook: http.Server | undefined;

    before(() => {
        requireBinaries({ promtool: "prometheus", amtool: "prometheus-alertmanager", "prometheus-alertmanager": "prometheus-alertmanager" });
        dir = scratchDir("alerting");
    });

    after(async () => {
        await stopAll();
        await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    });

    for (const role of ["primary", "standby"] as const) {
        it(`${role}: promtool check config / check rules accept prometheus.yml and alerts.yml`, () => {
            const rules = path.join(dir, `alerts-${role}.yml`);
            fs.writeFileSync(rules, renderAlertRules({ region: "us-east-1", role }));
            const prom = path.join(dir, `prometheus-${role}.yml`);
            fs.writeFileSync(prom, renderPrometheusYml({ region: "us-east-1", role, ruleFiles: [rules], edgeProbeUrls: ["http://203.0.113.10/ping"] }));
            const cfg = run("promtool", ["check", "config", prom]);
            assert.match(cfg.stdout + cfg.stderr, /SUCCESS: 1 rule files found/);
            const r = run("promtool", ["check", "rules", rules]);
            assert.match(r.stdout + r.stderr, new RegExp(`SUCCESS: ${alertRules(role).length} rules found`));
        });
    }

    it("promtool test rules: every primary-region rule fires when it should and stays silent when it should not", () => {
        const cases = primaryCases();
        for (const r of alertRules("primary")) {
            assert.ok(cases.some((c) => c.alert === r.alert && c.fires.length > 0), `no firing case for ${r.alert}`);
            assert.ok(cases.some((c) => c.alert === r.alert && c.fires.length === 0), `no silent case for ${r.alert}`);
        }
        const rules = path.join(dir, "alerts-primary.yml");
        fs.writeFileSync(rules, renderAlertRules({ region: "us-east-1", role: "primary" }));
        const tests = path.join(dir, "alerts-primary.test.yml");
        fs.writeFileSync(tests, promtoolTests(rules, "primary", cases));
        const r = run("promtool", ["test", "rules", tests], { allowFail: true });
        assert.equal(r.code, 0, `promtool test rules failed:\n${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout + r.stderr, /SUCCESS/);
    });

    it("promtool test rules: the standby region alerts when no standby leader is left", () => {
        const rules = path.join(dir, "alerts-standby.yml");
        fs.writeFileSync(rules, renderAlertRules({ region: "us-west-2", role: "standby" }));
        const tests = path.join(dir, "alerts-standby.test.yml");
        fs.writeFileSync(tests, promtoolTests(rules, "standby", standbyCases()));
        const r = run("promtool", ["test", "rules", tests], { allowFail: true });
        assert.equal(r.code, 0, `promtool test rules failed:\n${r.stdout}\n${r.stderr}`);
    });

    it("amtool check-config and routes; a real Alertmanager posts to the webhook URL held only by the secret file", async () => {
        const v = run("amtool", ["--version"]);
        const version = /version (\d+\.\d+\.\d+)/.exec(v.stdout + v.stderr)?.[1];
        assert.ok(version, "could not read amtool's version");
        const mode = webhookSecretMode(version);

        hook = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => {
                received.push({ url: req.url ?? "", body });
                res.end("ok");
            });
        });
        await new Promise<void>((r) => hook!.listen(0, "127.0.0.1", () => r()));
        const hookPort = (hook.address() as net.AddressInfo).port;
        const token = "t0k&en/=x";
        const url = `http://127.0.0.1:${hookPort}/hook?token=${encodeURIComponent(token)}&b=1`;

        const secrets = path.join(dir, "secrets");
        const data = path.join(dir, "am-data");
        fs.mkdirSync(secrets);
        fs.mkdirSync(data);
        fs.writeFileSync(path.join(secrets, "am_webhook_url"), `${url}\n`, { mode: 0o400 });
        fs.writeFileSync(path.join(secrets, "smtp_password"), "dummy-smtp-password\n", { mode: 0o400 });
        const binary = run("sh", ["-c", "command -v prometheus-alertmanager"]).stdout.trim();
        const common = {
            version,
            secretsDir: secrets,
            webhook: { urlSecret: "am_webhook_url" },
            configPath: path.join(dir, "alertmanager.yml"),
            generatedConfigPath: path.join(data, "alertmanager.yml"),
            binary,
        };

        // With the e-mail receiver: configuration and routing only (no SMTP server here).
        const withEmail = path.join(dir, "alertmanager-email.yml");
        const emailText = renderAlertmanagerYml({ ...common, email: { to: "ops@example.com", from: "am@example.com", smarthost: "smtp.example.com:587", authUsername: "am", authPasswordSecret: "smtp_password" } });
        fs.writeFileSync(withEmail, emailText);
        run("amtool", ["check-config", withEmail]);
        for (const [labels, receiver] of [[["severity=critical"], "critical"], [["severity=warning"], "warning"], [["severity=info"], "webhook"]] as const) {
            const r = run("amtool", ["config", "routes", "test", `--config.file=${withEmail}`, `--verify.receivers=${receiver}`, ...labels], { allowFail: true });
            assert.equal(r.code, 0, `${labels.join(" ")} should route to ${receiver}: ${r.stdout}${r.stderr}`);
        }

        const text = renderAlertmanagerYml(common);
        for (const t of [emailText, text]) {
            assert.ok(!t.includes(String(hookPort)) && !t.includes("token") && !t.includes("dummy-smtp-password"), "a secret leaked into the rendered file");
        }
        fs.writeFileSync(common.configPath, text);
        run("amtool", ["check-config", common.configPath]);

        const port = await freePort();
        const args = [`--storage.path=${data}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="];
        const log = path.join(dir, "alertmanager.log");
        if (mode === "start_script") {
            const script = path.join(dir, "alertmanager-start.sh");
            fs.writeFileSync(script, renderAlertmanagerStartScript(common), { mode: 0o555 });
            startDaemon("alertmanager", "sh", [script, ...args], log);
        } else {
            startDaemon("alertmanager", binary, [`--config.file=${common.configPath}`, ...args], log);
        }
        const base = `http://127.0.0.1:${port}`;
        await waitFor("Alertmanager ready", async () => (await fetch(`${base}/-/ready`)).ok, { timeoutMs: 20_000, intervalMs: 200 });
        if (mode === "start_script") {
            const generated = fs.readFileSync(common.generatedConfigPath, "utf8");
            assert.ok(generated.includes(url), "the start script must put the secret URL into the generated copy");
            assert.equal(fs.statSync(common.generatedConfigPath).mode & 0o077, 0, "the generated copy holds a secret: mode 0600");
            run("amtool", ["check-config", common.generatedConfigPath]);
        }

        const alert = { labels: { alertname: "BackendDown", severity: "critical", region: "us-east-1", instance: "10.0.1.5:8084" }, annotations: { summary: "Backend instance down" } };
        const post = await fetch(`${base}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([alert]) });
        assert.equal(post.status, 200, `POST /api/v2/alerts answered ${post.status}`);
        const got = await waitFor("the webhook notification", () => received.find((r) => r.body.includes("BackendDown")), {
            timeoutMs: durationMs(MONITORING_DEFAULTS.notify.criticalGroupWait) + 20_000,
            intervalMs: 200,
        });
        assert.equal(got.url, `/hook?token=${encodeURIComponent(token)}&b=1`, "the URL (with its query) comes from the secret file");
        const payload = JSON.parse(got.body) as { receiver: string; status: string; alerts: { labels: Labels }[] };
        assert.equal(payload.receiver, "critical");
        assert.equal(payload.status, "firing");
        assert.equal(payload.alerts[0].labels.instance, "10.0.1.5:8084");
    });
});
