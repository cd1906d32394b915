/**
 * Day-2 operations on the Swarm lab (issue: replace any host without losing quorum or data).
 *
 * swarm_manager_replacement: the init manager's host (app-0, the one whose cloud-init once ran `docker swarm init`)
 * dies and is replaced by a new instance: a new instance id, an empty root volume, the same hostname and role. Its
 * own cloud-init bootstrap must find a live manager and join the existing Swarm (never `init` a second one), and the
 * managers' labelling pass removes the Down node it superseded. Under a steady request load on the backend from a
 * frontend task on another host, each request retried as the plan's Traefik retries it (swarmLoad.ts TRAEFIK_RETRY: a
 * dead host's task stays in the backend's DNS for a few seconds; Traefik's retry is what takes such a request to
 * another task in production). Seconds from the kill until the Swarm is one Swarm again (every node in the managers'
 * table, three Ready managers, no Down node) and every service has converged; failed requests (every attempt failed),
 * and in the notes those that failed their first try.
 */
import { waitConverged } from "../../test/swarm/apply";
import { loadImages, ROLLOUT_BACKEND_IMAGE } from "../../test/swarm/images";
import { docker, nodeTable } from "../../test/swarm/lab";
import { eventually, execIn, runningTasks, RunningTask, StackLab } from "../../test/swarm/support";
import { CaseResult, median, summarise } from "../types";
import { failedSince, firstTryFailed, firstTryFailedSince, loadOn, loadResult, r3, services, TRAEFIK_RETRY } from "./swarmLoad";
import { backendEnv, patroniCluster, patroniWhole, pgTask, redisClient, secretOf, sentinelMaster, serviceOf, waitReplicasOnline, wholeCluster } from "./swarmFailover";
import { missingWrites, routerTask, startPgWriter } from "./swarmPgWrites";
import { startLoop } from "./swarmLoop";

/** One Swarm: the managers agree on one cluster, every lab node is in their table and Ready, and `managers` of them are managers. */
function swarmState(s: StackLab): { clusters: number; nodes: number; ready: number; managers: number; down: string[] } {
    const managers = s.lab.nodes.filter((n) => n.manager);
    const clusters = new Set(managers.map((n) => docker(n.socket, ["info", "--format", "{{.Swarm.Cluster.ID}}"], { timeoutMs: 10_000 })));
    const table = nodeTable(s.lab.managerSocket());
    const ids = s.lab.nodes.map((n) => docker(n.socket, ["info", "--format", "{{.Swarm.NodeID}}"], { timeoutMs: 10_000 }));
    return {
        clusters: clusters.size,
        nodes: ids.filter((id) => table.some((x) => x.id === id)).length,
        ready: table.filter((x) => x.status === "ready").length,
        managers: table.filter((x) => x.role === "manager" && x.status === "ready").length,
        down: table.filter((x) => x.status !== "ready").map((x) => `${x.hostname} ${x.status}`),
    };
}

export async function swarmManagerReplacement(s: StackLab, runs: number): Promise<CaseResult> {
    const init = s.lab.nodes.find((n) => n.initManager);
    if (!init) throw new Error("the lab has no init manager");
    const managers = s.lab.nodes.filter((n) => n.manager).length;
    const backendImage = String(s.translation.services.find((x) => x.spec.Name === "opscenter-backend-blue")!.spec.TaskTemplate.ContainerSpec.Image);
    const samples: number[] = [];
    const notes: string[] = [];
    let failed = 0;
    for (let run = 1; run <= runs; run++) {
        const loop = await loadOn(s, ["opscenter-backend-blue"], init.hostname, { traefikRetry: true });
        try {
            const t0 = Date.now() / 1000;
            await s.lab.killHost(init.hostname);
            // A new instance of the host: the lab gives it an empty disk; it gets the images the plan places on it.
            await s.lab.replaceHost(init.hostname, async (node) => {
                await loadImages({ nodes: [node] }, s.plan, { extra: { [ROLLOUT_BACKEND_IMAGE]: backendImage } });
            });
            const state = await eventually(`one Swarm of ${s.lab.nodes.length} Ready nodes with ${managers} managers`, 300_000, () => {
                const x = swarmState(s);
                return x.clusters === 1 && x.nodes === s.lab.nodes.length && x.ready === s.lab.nodes.length && x.managers === managers && x.down.length === 0 ? x : undefined;
            });
            await waitConverged(s.manager(), services(s), 600_000);
            const secs = Date.now() / 1000 - t0;
            await new Promise((r) => setTimeout(r, 3000));
            const f = failedSince(loop, t0);
            const first = firstTryFailedSince(loop, t0);
            samples.push(r3(secs));
            failed += f;
            notes.push(`run ${run}: ${init.hostname} replaced: ${state.clusters} Swarm, ${state.managers} managers, ${state.ready} Ready nodes, ${f} failed of ${loop.attempts.filter((a) => a.start >= t0).length} (${first} failed their first try)`);
            const failures = loop.attempts.filter((a) => a.start >= t0 && firstTryFailed(a)).map((a) => `+${(a.start - t0).toFixed(1)} s ${a.ok ? "ok after " : ""}${a.detail}`);
            process.stdout.write(`   ${notes[notes.length - 1]}; failures: ${failures.join("; ") || "none"}\n`);
        } finally {
            await loop.stop();
        }
    }
    return loadResult(samples, failed, `Swarm lab (${s.stack}): the init manager's host killed and replaced by a new empty instance (same hostname and role) that joins by its own cloud-init; seconds until one Swarm with ${managers} Ready managers and every service converged; load: the backend's /health from a frontend task on another host, each request retried as the plan's Traefik retries it (${TRAEFIK_RETRY.attempts} attempts, ${TRAEFIK_RETRY.intervalS} s apart, each dial bounded at ${TRAEFIK_RETRY.dialS} s: the lab has no Traefik binary, so the client applies the policy; failed requests failed every attempt); ${notes.join("; ")}`);
}

/** The first running task of `service` on host `on` (or off it, with `off`). */
async function taskOf(s: StackLab, service: string, where: { on?: string; off?: string }): Promise<RunningTask | undefined> {
    return (await runningTasks(s, service)).find((t) => (where.on ? t.node.hostname === where.on : t.node.hostname !== where.off));
}

/** etcd members that are started, named and healthy, as a member off `off` sees them. */
async function etcdHealthy(s: StackLab, off: string): Promise<number> {
    for (const name of services(s).filter((n) => /^opscenter-etcd-\d+$/.test(n))) {
        const t = await taskOf(s, name, { off });
        if (!t) continue;
        const ctl = ["etcdctl", "--endpoints=http://127.0.0.1:2379", "--dial-timeout=2s", "--command-timeout=3s"];
        const list = execIn(t, [...ctl, "member", "list"], { allowFail: true, timeoutMs: 15_000 });
        if (list.code !== 0) continue;
        const started = list.stdout.split("\n").filter((l) => /, started, [^,]+, /.test(l)).length;
        const health = execIn(t, [...ctl, "endpoint", "health", "--cluster"], { allowFail: true, timeoutMs: 20_000 });
        const healthy = (health.stdout + health.stderr).split("\n").filter((l) => /is healthy/.test(l)).length;
        return Math.min(started, healthy);
    }
    return 0;
}

export async function swarmDataHostReplacement(s: StackLab, runs: number): Promise<CaseResult> {
    const env = backendEnv(s);
    const pgPass = secretOf(s, env.DATABASE_PASSWORD_FILE);
    const redis = redisClient(s);
    const addrHost = new Map([...s.planAddresses].map(([h, a]) => [a, h]));
    const pgMembers = services(s).filter((n) => /^opscenter-pg-\d+$/.test(n));
    const redisNodes = services(s).filter((n) => /^opscenter-redis-\d+$/.test(n));
    const sentinelNames = services(s).filter((n) => /^opscenter-redis-sentinel-\d+$/.test(n));
    const samples: number[] = [];
    const notes: string[] = [];
    const phases: Record<string, number[]> = { etcd_3_healthy: [], redis_replica_online: [], patroni_all_streaming: [] };
    let lost = 0;
    for (let run = 1; run <= runs; run++) {
        // A whole cluster first: Patroni leader + all streaming, the Redis master with every replica online.
        const members = await wholeCluster(s);
        const leaderHost = (await runningTasks(s, serviceOf(members.find((x) => x.role === "leader")!.name)))[0].node.hostname;
        const probe = (await runningTasks(s, sentinelNames[0]))[0];
        const masterIp = await sentinelMaster(probe, env.REDIS_MASTER_NAME);
        const masterHost = addrHost.get(masterIp);
        await waitReplicasOnline(probe, masterIp, redis.pass, redisNodes.length - 1);
        const candidates = s.lab.nodes.filter((n) => n.role === "data" && n.hostname !== leaderHost && n.hostname !== masterHost);
        const target = candidates[(run - 1) % candidates.length];
        if (!target) throw new Error(`no data host runs neither the Patroni leader (${leaderHost}) nor the Redis master (${masterHost})`);
        if ((await etcdHealthy(s, target.hostname)) < 3) throw new Error("etcd has not 3 healthy members before the run");
        const redisService = (await Promise.all(redisNodes.map(async (n) => ((await taskOf(s, n, { on: target.hostname })) ? n : undefined)))).find(Boolean);
        const pgService = (await Promise.all(pgMembers.map(async (n) => ((await taskOf(s, n, { on: target.hostname })) ? n : undefined)))).find(Boolean);

        const router = await routerTask(s, target.hostname);
        const tag = `replace-${Date.now()}-${run}`;
        const pgLoop = await startPgWriter(s, router, pgPass, tag, 1500);
        let client: RunningTask | undefined;
        for (const n of sentinelNames) client = client ?? (await taskOf(s, n, { off: target.hostname }));
        if (!client) throw new Error(`no sentinel task off ${target.hostname}`);
        const key = `swarm:replace:${Date.now()}:${run}`;
        const redisLoop = startLoop(client, redis.push(key), { intervalS: 0.2, maxSeconds: 1500, env: { RPASS: redis.pass } });
        try {
            await redisLoop.okAfter(0, 5, 60_000);
            const t0 = Date.now() / 1000;
            await s.lab.killHost(target.hostname);
            // The new instance: a new empty disk (the lab's new data root), the images the plan places on it.
            await s.lab.replaceHost(target.hostname, async (node) => {
                await loadImages({ nodes: [node] }, s.plan);
            });
            const seen: Record<string, number> = {};
            await eventually(`${target.hostname} replaced: etcd 3 healthy, Redis an online replica, Patroni all streaming`, 900_000, async () => {
                const now = Date.now() / 1000 - t0;
                if (seen.etcd_3_healthy === undefined && (await etcdHealthy(s, target.hostname)) >= 3) seen.etcd_3_healthy = now;
                if (seen.redis_replica_online === undefined && redisService) {
                    const t = await taskOf(s, redisService, { on: target.hostname });
                    const info = t ? execIn(t, ["sh", "-c", `REDISCLI_AUTH="$RPASS" timeout 3 redis-cli -p 6379 --raw info replication`], { env: { RPASS: redis.pass }, allowFail: true }).stdout : "";
                    if (/^role:slave/m.test(info) && /^master_link_status:up/m.test(info)) seen.redis_replica_online = now;
                }
                if (seen.patroni_all_streaming === undefined) {
                    const m = await patroniCluster(await pgTask(s, target.hostname)).catch(() => undefined);
                    if (patroniWhole(m, pgMembers.length)) seen.patroni_all_streaming = now;
                }
                return Object.keys(phases).every((k) => seen[k] !== undefined) ? true : undefined;
            }, 1000);
            await waitConverged(s.manager(), services(s), 600_000);
            const secs = Date.now() / 1000 - t0;
            await new Promise((r) => setTimeout(r, 3000));
            await pgLoop.stop();
            await redisLoop.stop();
            for (const k of Object.keys(phases)) phases[k].push(r3(seen[k]));
            const pg = missingWrites(s, router, pgPass, tag, pgLoop);
            const rAcked = redisLoop.attempts.filter((a) => a.ok).map((a) => a.n);
            const have = new Set(
                execIn(client, ["sh", "-c", `${redis.ask}; REDISCLI_AUTH="$RPASS" redis-cli -h $1 -p $2 --raw lrange ${key} 0 -1`], { timeoutMs: 30_000, env: { RPASS: redis.pass } })
                    .stdout.split(/\s+/).filter(Boolean).map(Number),
            );
            const rMissing = rAcked.filter((n) => !have.has(n)).length;
            lost += pg.missing.length + rMissing;
            samples.push(r3(secs));
            notes.push(
                `run ${run}: ${target.hostname} (${[pgService, redisService].filter(Boolean).join(", ")}, etcd) replaced with an empty disk: etcd 3 healthy +${r3(seen.etcd_3_healthy)} s, Redis replica online +${r3(seen.redis_replica_online)} s, ` +
                    `Patroni all streaming +${r3(seen.patroni_all_streaming)} s, converged ${r3(secs)} s; Postgres ${pg.acked} acknowledged ${pg.missing.length} lost, Redis ${rAcked.length} acknowledged ${rMissing} lost`,
            );
            process.stdout.write(`   ${notes[notes.length - 1]}\n`);
        } finally {
            await pgLoop.stop();
            await redisLoop.stop();
        }
    }
    return summarise(samples, lost, {
        phases_s: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, median(v)])),
        notes: `Swarm lab (${s.stack}): a data host killed and replaced by a new instance with an empty disk (its etcd member, Patroni member and Redis node start empty); seconds until etcd had 3 healthy members, the Redis node was an online replica, every Patroni member streamed and every service converged; writes: Postgres through a router on another host (0.2 s), Redis Sentinel-aware from a sentinel on another host (0.2 s); ${notes.join("; ")}`,
    });
}
