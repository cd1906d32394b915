/**
 * Each stack's plan on a real multi-node Swarm (one lab at a time: 2 cores): every service converges with its
 * health check passing; placement is the design's; every container reads its secrets and configs as its own user;
 * Patroni forms across the data hosts and HAProxy routes the application role's writes to the leader; Redis and
 * Sentinel form across hosts; Prometheus scrapes its targets; a second apply changes no service; and nothing
 * stateful moves when a data host goes down.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readStackConfig } from "../../offline/engine";
import { ROOT, STACKS } from "../harness";
import { serviceState } from "./apply";
import { eventually, execIn, runningTasks, StackLab, startStackLab } from "./support";
import { Json, mountedSecret } from "./translate";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const specs = (s: StackLab) => s.translation.services.map((x) => x.spec as Any);
const pinnedHost = (spec: Any): string | undefined =>
    ((spec.TaskTemplate.Placement?.Constraints ?? []) as string[]).map((c) => /^node\.hostname==(\S+)$/.exec(c)?.[1]).find(Boolean);
const isPrimary = (stack: string) => (readStackConfig(ROOT, stack).values["ops-center-ha:role"] ?? "primary") === "primary";

/** SWARM_STACKS=us-east-1 runs one stack's lab only (default: both, one after the other). */
const stacks = process.env.SWARM_STACKS ? process.env.SWARM_STACKS.split(",") : [...STACKS];

for (const stack of stacks) {
    describe(`${stack}'s plan on a Swarm of its hosts`, { timeout: 1_800_000 }, () => {
        let s: StackLab;
        before(async () => {
            s = await startStackLab(stack);
        });
        after(async () => {
            await s?.stop();
        });

        it("every service converges to its desired replicas with its health check passing", () => {
            if ("error" in s.converged) throw s.converged.error;
            assert.ok(s.converged.ms > 0);
        });

        it("placement: stateful tasks on their pinned data host; frontend and backend one per app host", async () => {
            const wrong: string[] = [];
            for (const spec of specs(s)) {
                const host = pinnedHost(spec);
                if (!host) continue;
                for (const t of await runningTasks(s, spec.Name)) if (t.node.hostname !== host) wrong.push(`${spec.Name} on ${t.node.hostname}, pinned to ${host}`);
            }
            for (const name of ["opscenter-frontend", "opscenter-backend-blue", "opscenter-backend-green"]) {
                const spec = specs(s).find((x) => x.Name === name);
                if (!spec) continue;
                const tasks = await runningTasks(s, name);
                const hosts = tasks.map((t) => t.node.hostname);
                assert.equal(tasks.length, spec.Mode.Replicated.Replicas, `${name}: ${tasks.length} running`);
                assert.equal(new Set(hosts).size, hosts.length, `${name}: two tasks on one host: ${hosts.join(", ")}`);
                for (const t of tasks) assert.equal(t.node.role, "app", `${name} on ${t.node.hostname}`);
            }
            assert.deepEqual(wrong, []);
        });

        it("each container reads its secrets and configs as its own user", async () => {
            const failures: string[] = [];
            const secretData = new Map(s.translation.secrets.map((x) => [x.body.Name, Buffer.from(x.body.Data, "base64").toString("utf8")]));
            const configData = new Map(s.translation.configs.map((x) => [x.body.Name, Buffer.from(x.body.Data, "base64").toString("utf8")]));
            let checked = 0;
            for (const spec of specs(s)) {
                const cs = spec.TaskTemplate.ContainerSpec;
                const files = [
                    ...((cs.Secrets ?? []) as Any[]).map((r) => ({ path: r.File.Name, want: secretData.get(r.SecretName) })),
                    ...((cs.Configs ?? []) as Any[]).map((r) => ({ path: r.File.Name, want: configData.get(r.ConfigName) })),
                ];
                if (files.length === 0) continue;
                for (const t of await runningTasks(s, spec.Name)) {
                    const who = execIn(t, ["id", "-un"], { allowFail: true }).stdout.trim() || "?";
                    for (const f of files) {
                        const r = execIn(t, ["cat", f.path], { allowFail: true });
                        checked++;
                        if (r.code !== 0) failures.push(`${spec.Name} on ${t.node.hostname} as ${who}: cat ${f.path}: ${r.stderr.trim()}`);
                        else if (r.stdout !== f.want) failures.push(`${spec.Name}: ${f.path} differs from the plan's data`);
                    }
                }
            }
            assert.deepEqual(failures, []);
            assert.ok(checked > 0, "no secret or config file was checked");
        });

        if (!isPrimary(stack)) {
            it("Patroni forms a standby cluster of the primary region across the data hosts; a row committed there reaches every member", async () => {
                assert.ok(s.peer, "a standby stack's lab runs a stand-in primary region");
                const pgs = specs(s).filter((x) => /^opscenter-pg-\d+$/.test(x.Name));
                const t = (await runningTasks(s, pgs[0].Name))[0];
                assert.ok(t, `${pgs[0].Name} has no running task`);
                const c = await eventually("a standby leader and streaming replicas", 180_000, () => {
                    const c = JSON.parse(execIn(t, ["curl", "-fsS", "http://localhost:8008/cluster"]).stdout) as { members: { name: string; role: string; state: string }[] };
                    const leaders = c.members.filter((m) => m.role === "standby_leader" && m.state === "streaming");
                    const replicas = c.members.filter((m) => m.role === "replica" && m.state === "streaming");
                    return leaders.length === 1 && replicas.length === pgs.length - 1 && !c.members.some((m) => m.role === "leader") ? c : undefined;
                });
                // The standby leader streams from the primary region: its WAL receiver's sender is one of the plan's addresses of it.
                const local = ["psql", "-X", "-At", "-U", "postgres", "-h", "/var/run/postgresql", "-d", "postgres", "-c"];
                const leader = c.members.find((m) => m.role === "standby_leader")!.name;
                const lt = (await runningTasks(s, `opscenter-${/(pg-\d+)$/.exec(leader)?.[1]}`))[0];
                assert.ok(lt, `standby leader ${leader} has no running task`);
                const sender = execIn(lt, [...local, "SELECT sender_host FROM pg_stat_wal_receiver"]).stdout.trim();
                assert.ok(s.peer.addresses.includes(sender), `${leader} streams from ${sender || "nothing"}, not the primary region (${s.peer.addresses.join(", ")})`);
                const tag = `probe-${Date.now()}`;
                s.peer.sql(`CREATE TABLE IF NOT EXISTS peer_probe (tag text); INSERT INTO peer_probe VALUES ('${tag}');`);
                for (const p of pgs) {
                    const x = (await runningTasks(s, p.Name))[0];
                    assert.ok(x, `${p.Name} has no running task`);
                    await eventually(`${p.Name} has the primary region's row, read-only`, 60_000, () => {
                        const r = execIn(x, [...local, `SELECT count(*) || ' ' || pg_is_in_recovery() FROM peer_probe WHERE tag = '${tag}'`], { allowFail: true });
                        return r.stdout.trim() === "1 true" ? true : undefined; // text of a boolean is 'true'
                    });
                }
            });
        } else it("Patroni forms across the data hosts; HAProxy routes the application role's writes to the leader", async () => {
            const pgs = specs(s).filter((x) => /^opscenter-pg-\d+$/.test(x.Name));
            const t = (await runningTasks(s, pgs[0].Name))[0];
            assert.ok(t, `${pgs[0].Name} has no running task`);
            const cluster = await eventually("Patroni cluster with a leader and streaming replicas", 180_000, () => {
                const c = JSON.parse(execIn(t, ["curl", "-fsS", "http://localhost:8008/cluster"]).stdout) as { members: { name: string; role: string; state: string; host: string }[] };
                const leaders = c.members.filter((m) => m.role === "leader");
                const replicas = c.members.filter((m) => m.role !== "leader" && m.state === "streaming");
                return leaders.length === 1 && replicas.length === pgs.length - 1 ? c : undefined;
            });
            const hosts = new Set<string>();
            for (const p of pgs) for (const x of await runningTasks(s, p.Name)) hosts.add(x.node.hostname);
            assert.equal(hosts.size, pgs.length, `Patroni members on ${[...hosts].join(", ")}`);
            // The application role (the backend's DATABASE_USER and password file) writes through the router.
            const backend = specs(s).find((x) => x.Name === "opscenter-backend-blue")!;
            const env = Object.fromEntries((backend.TaskTemplate.ContainerSpec.Env as string[]).map((e) => [e.split("=")[0], e.split("=").slice(1).join("=")]));
            const router = specs(s).find((x) => x.Name === env.DATABASE_HOST);
            assert.ok(router, `the backend's DATABASE_HOST ${env.DATABASE_HOST} is no service of the plan`);
            const pass = mountedSecret(s.translation, "opscenter-backend-blue", env.DATABASE_PASSWORD_FILE);
            assert.ok(pass !== undefined, `the backend mounts no secret at ${env.DATABASE_PASSWORD_FILE}`);
            const sql = "CREATE TABLE IF NOT EXISTS swarm_lab_probe (id serial PRIMARY KEY, at timestamptz DEFAULT now()); INSERT INTO swarm_lab_probe DEFAULT VALUES RETURNING id; SELECT pg_is_in_recovery();";
            const r = await eventually("a write through the router as the application role", 60_000, () => {
                const x = execIn(t, ["env", `PGPASSWORD=${pass}`, "psql", "-X", "-At", "-h", env.DATABASE_HOST, "-p", env.DATABASE_PORT, "-U", env.DATABASE_USER, "-d", env.DATABASE_NAME, "-c", sql], { allowFail: true });
                if (x.code !== 0) throw new Error(x.stderr.trim());
                return x.stdout;
            });
            // psql -At prints each statement's output: CREATE TABLE, the new id, INSERT 0 1, then f (the primary).
            const out = r.trim().split("\n").map((l) => l.trim());
            assert.ok(out.some((l) => /^\d+$/.test(l)) && out[out.length - 1] === "f", `through ${env.DATABASE_HOST}:${env.DATABASE_PORT}: ${r}`);
            assert.equal(cluster.members.filter((m) => m.role === "leader").length, 1);
        });

        it("Redis master, replicas and sentinels form across hosts", async () => {
            const redis = specs(s).filter((x) => /^opscenter-redis-\d+$/.test(x.Name));
            const sentinels = specs(s).filter((x) => /^opscenter-redis-sentinel-\d+$/.test(x.Name));
            assert.ok(redis.length > 0);
            const t = (await runningTasks(s, redis[0].Name))[0];
            assert.ok(t, `${redis[0].Name} has no running task`);
            const auth = ["sh", "-c", 'REDISCLI_AUTH="$(cat /run/secrets/redis_password)" redis-cli "$@"', "redis-cli"];
            if (isPrimary(stack)) {
                const roles = await eventually("one master and its replicas connected", 120_000, async () => {
                    const out: string[] = [];
                    for (const r of redis) {
                        const x = (await runningTasks(s, r.Name))[0];
                        out.push(/role:(\w+)/.exec(execIn(x, [...auth, "info", "replication"]).stdout)?.[1] ?? "?");
                    }
                    return out.filter((x) => x === "master").length === 1 ? out : undefined;
                });
                const master = redis[roles.indexOf("master")];
                const mt = (await runningTasks(s, master.Name))[0];
                const slaves = Number(/connected_slaves:(\d+)/.exec(execIn(mt, [...auth, "info", "replication"]).stdout)?.[1]);
                assert.equal(slaves, redis.length - 1, `${master.Name} has ${slaves} connected replicas`);
            } else {
                // A standby region's Redis replicates the primary region's master (the stand-in); a key set there arrives.
                assert.ok(s.peer, "a standby stack's lab runs a stand-in primary region");
                const key = `peer:probe:${Date.now()}`;
                s.peer.redis(["set", key, "1"]);
                for (const r of redis) {
                    const x = (await runningTasks(s, r.Name))[0];
                    assert.ok(x, `${r.Name} has no running task`);
                    await eventually(`${r.Name} replicates the primary region's master`, 120_000, () => {
                        const info = execIn(x, [...auth, "info", "replication"], { allowFail: true }).stdout;
                        const got = execIn(x, [...auth, "--raw", "get", key], { allowFail: true }).stdout.trim();
                        return /role:slave/.test(info) && /master_link_status:up/.test(info) && got === "1" ? true : undefined;
                    });
                }
            }
            if (sentinels.length > 0) {
                const st = (await runningTasks(s, sentinels[0].Name))[0];
                assert.ok(st, `${sentinels[0].Name} has no running task`);
                const info = await eventually("sentinels see each other and the replicas", 120_000, () => {
                    const x = execIn(st, ["redis-cli", "-p", "26379", "sentinel", "master", "opscenter"], { allowFail: true });
                    const kv = x.stdout.trim().split("\n");
                    const get = (k: string) => Number(kv[kv.indexOf(k) + 1]);
                    return get("num-other-sentinels") === sentinels.length - 1 && get("num-slaves") === redis.length - 1 ? x.stdout : undefined;
                });
                assert.ok(info.length > 0);
            }
        });

        it("Prometheus scrapes its targets (targets API shows them up)", async () => {
            const t = (await runningTasks(s, "opscenter-prometheus"))[0];
            assert.ok(t, "opscenter-prometheus has no running task");
            const down = await eventually("every active target up", 120_000, () => {
                const r = JSON.parse(execIn(t, ["wget", "-qO-", "http://localhost:9090/api/v1/targets"]).stdout) as { data: { activeTargets: { labels: Json; health: string; lastError: string }[] } };
                const targets = r.data.activeTargets;
                if (targets.length === 0) return undefined;
                const bad = targets.filter((x) => x.health !== "up").map((x) => `${x.labels.job} ${x.labels.instance}: ${x.health} ${x.lastError}`);
                return bad.length === 0 ? bad : undefined;
            }).catch((e: Error) => [e.message]);
            assert.deepEqual(down, []);
        });

        it("a second apply of the same plan changes no service (same spec version, no task restarted)", async () => {
            const before = new Map<string, { version: number; tasks: string[] }>();
            for (const spec of specs(s)) before.set(spec.Name, await serviceState(s.manager(), spec.Name));
            const again = await s.applyAgain();
            assert.deepEqual(again.created, [], "the second apply created objects");
            const changed: string[] = [];
            for (const spec of specs(s)) {
                const now = await serviceState(s.manager(), spec.Name);
                const was = before.get(spec.Name)!;
                if (now.version !== was.version) changed.push(`${spec.Name}: version ${was.version} -> ${now.version}`);
                if (now.tasks.join() !== was.tasks.join()) changed.push(`${spec.Name}: tasks restarted`);
            }
            assert.deepEqual(again.updated.map((u) => `${u.name}: ${u.diff.join("; ")}`), [], "the second apply updated services");
            assert.deepEqual(changed, []);
        });

        it("nothing stateful moves when a data host goes down", async () => {
            const victim = s.lab.nodes.find((n) => n.role === "data")!.hostname;
            const pinned = specs(s).filter((x) => pinnedHost(x) === victim).map((x) => x.Name);
            assert.ok(pinned.length > 0, `nothing is pinned to ${victim}`);
            await s.lab.killHost(victim);
            let moved: string[] | undefined;
            let failure: unknown;
            try {
                // Swarm marks the node down after its heartbeat period; give the orchestrator time to (not) reschedule.
                await eventually(`${victim} marked down`, 90_000, async () => {
                    const nodes = await s.manager().listNodes();
                    return nodes.find((n) => (n as Any).Description?.Hostname === victim && (n as Any).Status?.State === "down") ? true : undefined;
                });
                await new Promise((r) => setTimeout(r, 20_000));
                moved = [];
                for (const name of pinned) for (const t of await runningTasks(s, name)) if (t.node.hostname !== victim) moved.push(`${name} now on ${t.node.hostname}`);
            } catch (e) {
                failure = e;
            }
            // Bring the host back whatever happened; report what was seen first, then a failed restore.
            let restoreError: unknown;
            await s.lab.restoreHost(victim).catch((e: unknown) => (restoreError = e));
            if (failure) throw failure;
            assert.deepEqual(moved, []);
            if (restoreError) throw new Error(`nothing moved, but ${victim} did not come back: ${restoreError instanceof Error ? restoreError.message : String(restoreError)}`);
        });
    });
}
