/**
 * Mock-engine tests of the service tiers on the Swarm, for both stacks: replica counts, placement, health
 * checks, update/rollback settings, secrets as files, Traefik labels, networks, and the rendered files that
 * the Swarm configs carry (decoded from what the program registered, so exactly what would ship).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { OfflinePlan, RecordedResource } from "../offline/engine";
import { byName, ofType, planStack, unwrap } from "./harness";

const SERVICE = "docker:index/service:Service";
const CONFIG = "docker:index/serviceConfig:ServiceConfig";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function service(plan: OfflinePlan, swarmName: string): Json {
    const r = ofType(plan, SERVICE).find((s) => s.inputs.name === swarmName);
    if (!r) throw new Error(`no service ${swarmName}; have ${ofType(plan, SERVICE).map((s) => s.inputs.name).join(", ")}`);
    return unwrap(r.inputs) as Json;
}
const labels = (svc: Json): Record<string, string> => Object.fromEntries((svc.labels ?? []).map((l: Json) => [l.label, l.value]));
/** The text of the Swarm config a service mounts at `path`. */
function mounted(plan: OfflinePlan, svc: Json, path: string): string {
    const m = (svc.taskSpec.containerSpec.configs ?? []).find((c: Json) => c.fileName === path);
    if (!m) throw new Error(`${svc.name} mounts nothing at ${path}`);
    const cfg = ofType(plan, CONFIG).find((c) => c.inputs.name === m.configName);
    if (!cfg) throw new Error(`no config ${m.configName}`);
    return Buffer.from(String(cfg.inputs.data), "base64").toString("utf8");
}
const lines = (text: string) => text.split("\n").map((l) => l.trim());

for (const stack of ["us-east-1", "us-west-2"] as const) {
    const primary = stack === "us-east-1";
    describe(`tiers of ${stack} (${primary ? "primary" : "standby"})`, () => {
        const plan = () => planStack(stack);

        it(`frontend: replicas, hard anti-affinity, restart, resources, health check, ${primary ? "stop-first (3 replicas fill the 3 app hosts)" : "start-first (free app hosts)"} with rollback`, () => {
            const f = service(plan(), "opscenter-frontend");
            assert.equal(f.mode.replicated.replicas, primary ? 3 : 1);
            assert.equal(f.taskSpec.placement.maxReplicas, 1, "at most one task per node");
            assert.ok(f.taskSpec.placement.constraints.includes("node.labels.role==app"));
            // "any" with no attempt cap: Swarm stops an unhealthy task with SIGTERM, the app exits 0, and under
            // "on-failure" that task is "complete" and never replaced (the Swarm lab's frontend went to 0/3 for good).
            assert.deepEqual(f.taskSpec.restartPolicy, { condition: "any", delay: "5s" });
            assert.deepEqual(f.taskSpec.resources.limits, { nanoCpus: 5e8, memoryBytes: 512 * 2 ** 20 });
            assert.deepEqual(f.taskSpec.resources.reservation, { nanoCpus: 2.5e8, memoryBytes: 256 * 2 ** 20 });
            assert.deepEqual(f.taskSpec.containerSpec.healthcheck, { tests: ["CMD", "curl", "-fsS", "http://localhost:80/health"], interval: "10s", timeout: "3s", retries: 3, startPeriod: "30s" });
            // 3 replicas capped one per node on exactly 3 app hosts: start-first could never place the new task (moby/moby#40797).
            assert.equal(f.updateConfig.order, primary ? "stop-first" : "start-first");
            assert.equal(f.rollbackConfig.order, f.updateConfig.order);
            assert.equal(f.updateConfig.failureAction, "rollback");
            assert.ok(f.updateConfig.monitor, "a monitor period");
            assert.equal(labels(f)["traefik.enable"], "true");
            assert.equal(labels(f)["traefik.http.routers.frontend.rule"], "Host(`ops.example.com`)");
        });

        it("backend: both colours, only the active one routed, the design's update/restart/resource/health settings", () => {
            const blue = service(plan(), "opscenter-backend-blue");
            const green = service(plan(), "opscenter-backend-green");
            assert.equal(labels(blue)["traefik.enable"], "true");
            assert.equal(labels(green)["traefik.enable"], "false", "the inactive colour keeps running, unrouted");
            for (const b of [blue, green]) {
                assert.equal(b.mode.replicated.replicas, primary ? 3 : 1);
                assert.deepEqual(
                    { p: b.updateConfig.parallelism, d: b.updateConfig.delay, o: b.updateConfig.order, f: b.updateConfig.failureAction },
                    { p: 1, d: "30s", o: primary ? "stop-first" : "start-first", f: "rollback" },
                );
                assert.deepEqual(b.taskSpec.restartPolicy, { condition: "any", delay: "5s" });
                assert.deepEqual(b.taskSpec.resources.limits, { nanoCpus: 2e9, memoryBytes: 2 * 2 ** 30 });
                // Two colours share the app hosts: each reserves 0.5 CPU, the design's 1 CPU per host for the backend.
                assert.deepEqual(b.taskSpec.resources.reservation, { nanoCpus: 5e8, memoryBytes: 2 ** 30 });
                assert.deepEqual(b.taskSpec.containerSpec.healthcheck, { tests: ["CMD", "curl", "-fsS", "http://localhost:8084/health"], interval: "15s", timeout: "5s", retries: 3, startPeriod: "60s" });
                assert.equal(b.taskSpec.containerSpec.stopGracePeriod, "30s");
                assert.equal(b.taskSpec.containerSpec.env.GRACEFUL_SHUTDOWN_TIMEOUT, "30");
            }
            const l = labels(blue);
            assert.equal(l["traefik.http.services.backend.loadbalancer.sticky.cookie"], "true");
            assert.equal(l["traefik.http.middlewares.backend-retry.retry.attempts"], "3");
            assert.match(l["traefik.http.middlewares.backend-cb.circuitbreaker.expression"], /NetworkErrorRatio\(\) > 0\.30/);
            assert.equal(l["traefik.http.routers.backend.middlewares"], "backend-retry,backend-cb");
        });

        it("backend: database and Redis passwords are Swarm secret files, Redis is reached through the sentinels", () => {
            const b = service(plan(), "opscenter-backend-blue");
            const env = b.taskSpec.containerSpec.env;
            assert.equal(env.DATABASE_HOST, "opscenter-postgres-router", "through the Patroni-following router, never a member");
            assert.equal(env.DATABASE_PORT, "5000");
            assert.equal(env.DATABASE_PASSWORD_FILE, "/run/secrets/db_password");
            assert.equal(env.REDIS_PASSWORD_FILE, "/run/secrets/redis_password");
            // The standby region has no sentinels: its backend reads the local replica (test/tiersRun.test.ts).
            if (primary) assert.equal(env.REDIS_MASTER_NAME, "opscenter");
            if (primary) assert.equal(env.REDIS_SENTINELS.split(",").length, 3);
            const files = b.taskSpec.containerSpec.secrets.map((s: Json) => s.fileName).sort();
            assert.deepEqual(files, ["/run/secrets/db_password", "/run/secrets/redis_password"]);
            for (const [k, v] of Object.entries(env)) assert.doesNotMatch(String(v), /mock[0-9a-f]{16,}/, `env ${k} holds a password`);
        });

        it("no service carries a generated password in its spec, and every config is named by its content hash", () => {
            for (const r of ofType(plan(), SERVICE)) {
                assert.doesNotMatch(JSON.stringify(unwrap(r.inputs)), /mock[0-9a-f]{16,}/, `${r.inputs.name} spec holds a password`);
            }
            for (const c of ofType(plan(), CONFIG)) {
                const text = Buffer.from(String(c.inputs.data), "base64").toString("utf8");
                assert.doesNotMatch(text, /mock[0-9a-f]{16,}/, `${c.inputs.name} holds a password`);
                const hash = createHash("sha256").update(text).digest("hex").slice(0, 12);
                assert.ok(String(c.inputs.name).endsWith(`-${hash}`), `${c.inputs.name} is not named by its content`);
            }
        });

        it("overlay networks separate edge, app and data traffic, and the data network is encrypted", () => {
            const nets = ofType(plan(), "docker:index/network:Network").map((n) => unwrap(n.inputs) as Json);
            const byTier = Object.fromEntries(nets.map((n) => [n.name, n]));
            for (const t of ["edge", "app", "data"]) assert.equal(byTier[`opscenter-${t}`].driver, "overlay");
            assert.equal(byTier["opscenter-data"].options.encrypted, "true");
            // Attached by the network resource's id (the provider reads attachments back as ids), named here for reading.
            const nameOfId = new Map(ofType(plan(), "docker:index/network:Network").map((n) => [n.id, (unwrap(n.inputs) as Json).name]));
            const attached = (s: Json) => s.taskSpec.networksAdvanceds.map((n: Json) => (n.name === undefined ? nameOfId.get(n.id) : `by name: ${n.name}`));
            assert.deepEqual(attached(service(plan(), "opscenter-frontend")), ["opscenter-edge"]);
            assert.deepEqual(attached(service(plan(), "opscenter-pg-1")), ["opscenter-data"]);
        });

        it("Postgres: Patroni members and etcd pinned to distinct data hosts, stop-first, passwords as secret files", () => {
            const members = ["opscenter-pg-1", "opscenter-pg-2", "opscenter-pg-3"].map((n) => service(plan(), n));
            const etcd = ["opscenter-etcd-1", "opscenter-etcd-2", "opscenter-etcd-3"].map((n) => service(plan(), n));
            const host = (s: Json) => s.taskSpec.placement.constraints.find((c: string) => c.startsWith("node.hostname=="));
            assert.equal(new Set(members.map(host)).size, 3, "one member per data host");
            assert.equal(ofType(plan(), "docker:index/service:Service").filter((s) => /^opscenter-pg-\d+$/.test((unwrap(s.inputs) as Json).name)).length, 3, "three Patroni members in either region (issue 10)");
            assert.equal(new Set(etcd.map(host)).size, 3);
            for (const s of [...members, ...etcd]) {
                assert.equal(s.updateConfig.order, "stop-first");
                assert.ok(s.taskSpec.placement.constraints.includes("node.labels.role==data"));
            }
            const m = members[0];
            assert.match(m.taskSpec.containerSpec.image, /^ghcr\.io\/zalando\/spilo-17:\d/);
            assert.deepEqual(m.taskSpec.containerSpec.secrets.map((s: Json) => s.fileName).sort(), ["/run/secrets/pg_app_password", "/run/secrets/pg_monitor_password", "/run/secrets/pg_replication_password", "/run/secrets/pg_superuser_password"]);
            const entry = mounted(plan(), m, "/etc/ops-center/spilo-entrypoint.sh");
            assert.match(entry, /read_secret PGPASSWORD_SUPERUSER "\/run\/secrets\/pg_superuser_password"/);
            assert.match(entry, /exec \/bin\/sh \/launch.sh/);
        });

        it("Postgres: the DCS timing, synchronous mode, archive_timeout and WAL-G settings the renderer ships", () => {
            const env = service(plan(), "opscenter-pg-1").taskSpec.containerSpec.env;
            assert.equal(env.PGVERSION, "16");
            assert.equal(env.USE_WALG_BACKUP, "true");
            assert.equal(env.WALG_S3_SSE, "aws:kms");
            assert.equal(env.BACKUP_NUM_TO_RETAIN, "30");
            assert.match(env.WAL_S3_BUCKET, new RegExp(`^ops-center-ha-${stack}-wal`));
            const spilo = parse(env.SPILO_CONFIGURATION);
            const dcs = spilo.bootstrap.dcs;
            assert.deepEqual({ ttl: dcs.ttl, loop: dcs.loop_wait, retry: dcs.retry_timeout }, { ttl: 20, loop: 2, retry: 5 });
            assert.equal(dcs.synchronous_mode, true);
            assert.ok(dcs.maximum_lag_on_failover > 0);
            assert.equal(dcs.postgresql.parameters.archive_timeout, 60);
            assert.deepEqual(spilo.etcd3.hosts, ["opscenter-etcd-1:2379", "opscenter-etcd-2:2379", "opscenter-etcd-3:2379"]);
            if (primary) {
                assert.equal(dcs.standby_cluster, undefined);
            } else {
                assert.equal(dcs.standby_cluster.port, 5000, "streams from the primary region's HAProxy leader port");
                assert.match(dcs.standby_cluster.restore_command, /restore_command\.sh/);
                assert.match(env.STANDBY_WALG_S3_PREFIX, /us-east-1/);
            }
        });

        it("Postgres router: HAProxy follows Patroni's leader check, never a fixed host", () => {
            const r = service(plan(), "opscenter-postgres-router");
            const cfg = mounted(plan(), r, "/usr/local/etc/haproxy/haproxy.cfg");
            // A standby region's router checks /leader: it keeps routing to the member the promotion's PATCH turns into a primary.
            assert.match(cfg, primary ? /option httpchk GET \/primary\b/ : /option httpchk GET \/leader\b/);
            assert.match(cfg, /server pg-1 opscenter-pg-1:5432/);
            assert.match(cfg, /server pg-2 opscenter-pg-2:5432/);
            assert.match(cfg, /server pg-3 opscenter-pg-3:5432/);
        });

        it("Postgres router: HAProxy resolves the members through Swarm's DNS at run time (it starts before any member exists)", () => {
            // Without a resolvers section HAProxy resolves each server name once, at start, and refuses to start
            // ("could not resolve address 'opscenter-pg-1'") while a member's service has no task yet.
            const cfg = mounted(plan(), service(plan(), "opscenter-postgres-router"), "/usr/local/etc/haproxy/haproxy.cfg");
            assert.ok(lines(cfg).includes("resolvers swarm"), cfg);
            assert.ok(lines(cfg).includes("nameserver docker 127.0.0.11:53"), cfg);
            for (const l of lines(cfg).filter((x) => x.startsWith("server "))) assert.match(l, / resolvers swarm init-addr last,libc,none$/);
        });

        it("Redis: nodes and sentinels pinned per host, auth and persistence as rendered, no password in any file", () => {
            const nodes = (primary ? ["redis-1", "redis-2", "redis-3"] : ["redis-1"]).map((n) => service(plan(), `opscenter-${n}`));
            const hostOf = (s: Json) => s.taskSpec.placement.constraints.find((c: string) => c.startsWith("node.hostname=="));
            assert.equal(new Set(nodes.map(hostOf)).size, nodes.length);
            for (const n of nodes) {
                const conf = lines(mounted(plan(), n, "/usr/local/etc/redis/redis.conf"));
                for (const l of ["appendonly yes", "appendfsync everysec", "save 900 1", "save 300 10"]) assert.ok(conf.includes(l), `${n.name}: ${l}`);
                assert.ok(!conf.some((l) => /^(requirepass|masterauth)\b/.test(l)), "no password in redis.conf");
                assert.equal(n.taskSpec.containerSpec.user, "999");
                assert.equal(n.endpointSpec.ports[0].publishMode, "host");
                const start = mounted(plan(), n, "/usr/local/bin/ops-redis-start.sh");
                assert.match(start, /requirepass %s\\nmasterauth %s/);
            }
            const sentinels = ofType(plan(), SERVICE).filter((s) => /redis-sentinel-\d$/.test(String(s.inputs.name)));
            if (primary) {
                assert.equal(sentinels.length, 3);
                const s = service(plan(), "opscenter-redis-sentinel-1");
                const conf = lines(mounted(plan(), s, "/usr/local/etc/redis/sentinel.conf"));
                assert.ok(conf.some((l) => /^sentinel monitor opscenter \S+ 6379 2$/.test(l)));
                for (const l of ["sentinel down-after-milliseconds opscenter 5000", "sentinel parallel-syncs opscenter 1", "sentinel resolve-hostnames yes", "sentinel announce-hostnames yes"]) {
                    assert.ok(conf.includes(l), l);
                }
                assert.ok(conf.some((l) => /^sentinel failover-timeout opscenter \d+$/.test(l)));
                assert.ok(!conf.some((l) => l.startsWith("sentinel auth-pass")), "auth-pass is added at start, not rendered");
                assert.ok(lines(mounted(plan(), nodes[0], "/usr/local/etc/redis/redis.conf")).includes("min-replicas-to-write 1"));
            } else {
                assert.equal(sentinels.length, 0, "the standby region runs no sentinels");
                const conf = lines(mounted(plan(), nodes[0], "/usr/local/etc/redis/redis.conf"));
                assert.ok(conf.includes("replica-priority 0"), "the standby-region replica is never promoted");
                assert.ok(conf.some((l) => /^replicaof 10\.10\.20\.11 6379$/.test(l)), "it follows the primary region's master");
            }
            const backup = service(plan(), "opscenter-redis-rdb-backup");
            assert.match(mounted(plan(), backup, "/usr/local/bin/ops-redis-backup.sh"), /--sse aws:kms/);
        });

        it("edge: Traefik v3 on every edge host with host-mode ports, the v3 Swarm provider, and TLS that two instances share", () => {
            const t = service(plan(), "opscenter-traefik");
            assert.equal(t.mode.global, true);
            assert.ok(t.taskSpec.placement.constraints.includes("node.labels.role==edge"));
            assert.deepEqual(t.endpointSpec.ports.map((p: Json) => [p.publishedPort, p.publishMode]), [[80, "host"], [443, "host"], [8082, "host"]]);
            const st = parse(mounted(plan(), t, "/etc/traefik/traefik.yml"));
            assert.equal(st.providers.swarm.exposedByDefault, false);
            assert.equal(st.providers.docker, undefined, "no v2 providers.docker.swarmMode");
            assert.equal(st.certificatesResolvers.le.acme.dnsChallenge.provider, "route53", "DNS-01, not HTTP-01 per instance");
            assert.equal(st.entryPoints.web.http.redirections.entryPoint.to, "websecure");
            assert.equal(t.updateConfig.parallelism, 1, "one edge host at a time");
        });

        it(`edge: keepalived ${primary ? "pair configured through SSM one host at a time" : "absent with a single edge host"}`, () => {
            const assoc = ofType(plan(), "aws:ssm/association:Association");
            if (!primary) {
                assert.equal(assoc.length, 0);
                return;
            }
            assert.equal(assoc.length, 1);
            const a = unwrap(assoc[0].inputs) as Json;
            assert.equal(a.maxConcurrency, "1");
            assert.equal(a.maxErrors, "0");
            const params = ofType(plan(), "aws:ssm/parameter:Parameter").map((p) => p.inputs as Json);
            const confs = params.filter((p) => /keepalived\.conf$/.test(String(unwrap(p.name))));
            assert.equal(confs.length, 2);
            const text = String(unwrap(confs[0].insecureValue));
            assert.match(text, /unicast_peer \{/);
            assert.match(text, /advert_int 1/);
            assert.match(text, /auth_pass \$\{AUTH_PASS\}/, "the conf references the secret, never holds it");
            assert.match(text, /notify_master/);
            assert.match(text, /track_script/);
            const auth = params.find((p) => /auth\.conf$/.test(String(unwrap(p.name))))!;
            assert.equal(auth.type, "SecureString");
            assert.ok(typeof auth.value === "object", "the auth include is a secret value");
            const notify = String(unwrap(params.find((p) => /notify_master\.sh$/.test(String(unwrap(p.name))))!.insecureValue));
            assert.match(notify, /associate-address/);
            assert.match(notify, /--allow-reassociation/);
        });

        it("monitoring: Prometheus and Alertmanager with the rendered files, the webhook URL as a secret file", () => {
            const prom = service(plan(), "opscenter-prometheus");
            const yml = parse(mounted(plan(), prom, "/etc/prometheus/prometheus.yml"));
            const jobs = yml.scrape_configs.map((j: Json) => j.job_name);
            for (const j of ["traefik", "backend", "patroni", "redis", "etcd", "edge_vip"]) assert.ok(jobs.includes(j), j);
            const rules = parse(mounted(plan(), prom, "/etc/prometheus/alerts.yml"));
            const names = rules.groups[0].rules.map((r: Json) => r.alert);
            for (const n of ["BackendDown", "DatabaseConnectionPoolExhausted", "HighErrorRate", "PatroniNoLeader", "EdgeVipDown", "TlsCertificateExpiringSoon"]) assert.ok(names.includes(n), n);
            // Three Patroni members: all scraped, and fewer than 2 replicas warns.
            assert.deepEqual(yml.scrape_configs.find((j: Json) => j.job_name === "patroni").dns_sd_configs[0].names, ["tasks.opscenter-pg-1", "tasks.opscenter-pg-2", "tasks.opscenter-pg-3"]);
            assert.equal(rules.groups[0].rules.find((r: Json) => r.alert === "PostgresReplicasMissing").expr, '(count(patroni_replica{job="patroni"} == 1) or vector(0)) < 2');
            const am = service(plan(), "opscenter-alertmanager");
            const amYml = mounted(plan(), am, "/etc/alertmanager/alertmanager.yml");
            assert.match(amYml, /url_file: \/run\/secrets\/alert_webhook_url/);
            assert.deepEqual(am.taskSpec.containerSpec.secrets.map((s: Json) => s.fileName), ["/run/secrets/alert_webhook_url"]);
        });
    });
}

describe("tiers: config switches", () => {
    it("blue/green is one config value: activeColor=green routes green and keeps blue running", () => {
        const plan = planStack("us-east-1", { activeColor: "green" });
        assert.equal(labels(service(plan, "opscenter-backend-green"))["traefik.enable"], "true");
        assert.equal(labels(service(plan, "opscenter-backend-blue"))["traefik.enable"], "false");
        assert.equal(service(plan, "opscenter-backend-blue").mode.replicated.replicas, 3, "the old colour stays up for instant rollback");
    });

    it("promoting the standby region (only role: primary) drops standby_cluster from the deployed DCS and the StackReference, adds sentinels, keeps the SECONDARY record", () => {
        // One config change (issue 10): the region keeps its standby sizes, names, credentials and DNS position.
        const promoted = planStack("us-west-2", { role: "primary" });
        assert.equal(ofType(promoted, "pulumi:pulumi:StackReference").length, 0);
        const dcs = parse(service(promoted, "opscenter-pg-1").taskSpec.containerSpec.env.SPILO_CONFIGURATION).bootstrap.dcs;
        // Patroni ignores bootstrap.dcs after creation: `npm run promote` PATCHes {"standby_cluster": null} (test/renderers.patroniConfigPatch.test.ts).
        assert.equal(dcs.standby_cluster, undefined, "the deployed DCS config has no standby_cluster");
        assert.equal(ofType(promoted, SERVICE).filter((s) => /redis-sentinel-\d$/.test(String(s.inputs.name))).length, 3);
        const record = unwrap(ofType(promoted, "aws:route53/record:Record")[0].inputs) as Json;
        assert.equal(record.failoverRoutingPolicies[0].type, "SECONDARY");
        assert.equal(service(promoted, "opscenter-frontend").mode.replicated.replicas, 1, "the standby's sizes until the operator scales up");
    });

    it("every tier is a component of the plan, in both stacks", () => {
        for (const stack of ["us-east-1", "us-west-2"]) {
            const types = new Set(planStack(stack).resources.map((r: RecordedResource) => r.type));
            for (const t of ["Frontend", "Backend", "Postgres", "Redis", "Edge", "Monitoring", "Network", "SwarmHosts", "WalBucket", "GlobalDns"]) {
                assert.ok(types.has(`opscenter:ha:${t}`), `${stack} lacks ${t}`);
            }
        }
        assert.ok(byName(planStack("us-west-2"), "opscenter:ha:CrossRegion", "ops-cross-region"));
    });
});

describe("global ties: Cloudflare", () => {
    const zoneId = "0123456789abcdef0123456789abcdef";
    it("cloudflareEnabled puts one proxied record in front of the Route53 failover name, in the primary only", () => {
        const primary = planStack("us-east-1", { cloudflareEnabled: "true", cloudflareZoneId: zoneId });
        const records = ofType(primary, "cloudflare:index/dnsRecord:DnsRecord").map((r) => unwrap(r.inputs) as Json);
        assert.equal(records.length, 1);
        assert.equal(records[0].zoneId, zoneId);
        assert.equal(records[0].name, "www.ops.example.com");
        assert.equal(records[0].content, "ops.example.com");
        assert.equal(records[0].proxied, true);
        const standby = planStack("us-west-2", { cloudflareEnabled: "true", cloudflareZoneId: zoneId });
        assert.equal(ofType(standby, "cloudflare:index/dnsRecord:DnsRecord").length, 0, "the two stacks never manage the same record");
    });
    it("without cloudflareEnabled there is no Cloudflare record", () => {
        assert.equal(ofType(planStack("us-east-1"), "cloudflare:index/dnsRecord:DnsRecord").length, 0);
    });
});
