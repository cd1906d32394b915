/**
 * Bench cases on the Swarm lab (test/swarm/support.ts): a data host dies whole (lab.killHost: its engine and every
 * container SIGKILLed, its link cut), under a steady write load from a container on a surviving host.
 *
 * swarm_postgres_host_crash: the Patroni leader's host dies; seconds from the kill to the first write acknowledged
 * through the plan's HAProxy service (the backend's DATABASE_HOST:DATABASE_PORT, as the backend's role), counting
 * only writes that started after the kill; acknowledged writes lost; when the host returns, exactly one primary.
 * swarm_redis_host_crash: the Redis master's host dies; the same through a Sentinel-aware client (asks the
 * sentinels of the backend's REDIS_SENTINELS for the master, RPUSHes there; a replica refuses, READONLY); each call
 * bounded at 2 s.
 */
import { waitConverged } from "../../test/swarm/apply";
import { eventually, execIn, runningTasks, StackLab, RunningTask } from "../../test/swarm/support";
import { mountedSecret } from "../../test/swarm/translate";
import { CaseResult, median, summarise } from "../types";
import { r3, services } from "./swarmLoad";
import { failureTimeline, firstSeen, startLoop } from "./swarmLoop";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function backendEnv(s: StackLab): Record<string, string> {
    const b = s.translation.services.find((x) => x.spec.Name === "opscenter-backend-blue")!.spec as Any;
    return Object.fromEntries((b.TaskTemplate.ContainerSpec.Env as string[]).map((e) => [e.split("=")[0], e.split("=").slice(1).join("=")]));
}
export function secretOf(s: StackLab, fileName: string): string {
    const text = mountedSecret(s.translation, "opscenter-backend-blue", fileName);
    if (text === undefined) throw new Error(`the backend mounts no secret at ${fileName}`);
    return text;
}

export async function patroniCluster(t: RunningTask): Promise<{ name: string; role: string; state: string }[]> {
    return (JSON.parse(execIn(t, ["curl", "-fsS", "-m", "3", "http://localhost:8008/cluster"]).stdout) as { members: { name: string; role: string; state: string }[] }).members;
}

/** Prints `<member>:<role>:<state>` for each member the local Patroni's /cluster lists (python3: the Spilo stand-in runs Patroni). */
export const PATRONI_MEMBERS = `python3 -c "import json,urllib.request as u; print(' '.join(m['name']+':'+m['role']+':'+m.get('state','') for m in json.load(u.urlopen('http://localhost:8008/cluster', timeout=1))['members']))"`;

/** The Swarm service of a Patroni member: members are `<region>-pg-N`, services `opscenter-pg-N` (README, Postgres member names). */
export function serviceOf(member: string): string {
    const m = /(pg-\d+)$/.exec(member);
    if (!m) throw new Error(`Patroni member ${member}: not named <region>-pg-N`);
    return `opscenter-${m[1]}`;
}

/** One leader and every other of `count` members streaming. */
export function patroniWhole(m: { role: string; state: string }[] | undefined, count: number): boolean {
    return !!m && m.length === count && m.filter((x) => x.role === "leader").length === 1 && m.filter((x) => x.role !== "leader").every((x) => x.state === "streaming");
}

/** Waits until Patroni reports one leader and every other member streaming; returns the members. */
export async function wholeCluster(s: StackLab, timeoutMs = 300_000): Promise<{ name: string; role: string; state: string }[]> {
    const count = services(s).filter((n) => /^opscenter-pg-\d+$/.test(n)).length;
    return eventually(`Patroni: one leader and ${count - 1} streaming`, timeoutMs, async () => {
        const m = await patroniCluster(await pgTask(s)).catch(() => undefined);
        return patroniWhole(m, count) ? m : undefined;
    });
}

/** The master's address the sentinel in `probe` names (waits until it names one). */
export function sentinelMaster(probe: RunningTask, masterName: string): Promise<string> {
    return eventually("Sentinel names a master", 120_000, () => execIn(probe, ["redis-cli", "-p", "26379", "--raw", "sentinel", "get-master-addr-by-name", masterName]).stdout.split("\n")[0].trim() || undefined);
}

/** Waits until the master at `masterIp` has `count` online replicas (asked from `probe`'s namespaces). */
export async function waitReplicasOnline(probe: RunningTask, masterIp: string, password: string, count: number): Promise<void> {
    await eventually(`the master ${masterIp} has ${count} online replicas`, 300_000, () => {
        const info = execIn(probe, ["sh", "-c", `REDISCLI_AUTH="$RPASS" timeout 3 redis-cli -h ${masterIp} -p 6379 --raw info replication`], { env: { RPASS: password }, allowFail: true }).stdout;
        return (info.match(/^slave\d+:.*state=online/gm) ?? []).length >= count ? true : undefined;
    });
}

/** A running Patroni task other than on `notOn`. */
export async function pgTask(s: StackLab, notOn?: string): Promise<RunningTask> {
    for (const name of services(s).filter((n) => /^opscenter-pg-\d+$/.test(n))) for (const t of await runningTasks(s, name)) if (t.node.hostname !== notOn) return t;
    throw new Error(`no running Patroni task${notOn ? ` off ${notOn}` : ""}`);
}

export async function swarmPostgresHostCrash(s: StackLab, runs: number): Promise<CaseResult> {
    const env = backendEnv(s);
    const pass = secretOf(s, env.DATABASE_PASSWORD_FILE);
    const psql = `PGCONNECT_TIMEOUT=2 psql -X -At -h ${env.DATABASE_HOST} -p ${env.DATABASE_PORT} -U ${env.DATABASE_USER} -d ${env.DATABASE_NAME}`;
    const samples: number[] = [];
    const notes: string[] = [];
    const lockExpired: number[] = [];
    const leaderRunning: number[] = [];
    let lost = 0;
    let twoPrimaries = false;
    for (let run = 1; run <= runs; run++) {
        const any = await pgTask(s);
        const members = await eventually("Patroni leader with a streaming replica", 180_000, async () => {
            const m = await patroniCluster(any);
            return m.filter((x) => x.role === "leader").length === 1 && m.some((x) => x.role !== "leader" && x.state === "streaming") ? m : undefined;
        });
        const leader = members.find((x) => x.role === "leader")!.name;
        const leaderHost = (await runningTasks(s, serviceOf(leader)))[0].node.hostname;
        const writer = await pgTask(s, leaderHost);
        execIn(writer, ["sh", "-c", `${psql} -c "CREATE TABLE IF NOT EXISTS swarm_bench (run text, n int, PRIMARY KEY (run, n))"`], { timeoutMs: 30_000, env: { PGPASSWORD: pass } });
        const tag = `${Date.now()}-${run}`;
        const loop = startLoop(writer, `${psql} -c "INSERT INTO swarm_bench VALUES ('${tag}', $n)"`, { intervalS: 0.2, maxSeconds: 240, env: { PGPASSWORD: pass } });
        // Server side, apart from the client: what the surviving member's Patroni reports, every 0.5 s.
        const probe = startLoop(writer, PATRONI_MEMBERS, { intervalS: 0.5, maxSeconds: 240 });
        try {
            await loop.okAfter(0, 5, 60_000);
            const killedAt = Date.now() / 1000;
            await s.lab.killHost(leaderHost);
            const first = await loop.okAfter(killedAt, 1, 180_000);
            samples.push(r3(first.end - killedAt));
            await new Promise((r) => setTimeout(r, 3000));
            await loop.stop();
            await probe.stop();
            const promoted = firstSeen(probe.attempts, killedAt, (d) => d.split(" ").some((m) => m.endsWith(":leader:running") && !m.startsWith(`${leader}:`)));
            const lockGone = firstSeen(probe.attempts, killedAt, (d) => !d.split(" ").some((m) => m.startsWith(`${leader}:leader`)));
            if (lockGone) lockExpired.push(lockGone.end - killedAt);
            if (promoted) leaderRunning.push(promoted.end - killedAt);
            process.stdout.write(
                `   run ${run}: Patroni: old leader gone +${lockGone ? (lockGone.end - killedAt).toFixed(1) : "?"} s, new leader running +${promoted ? (promoted.end - killedAt).toFixed(1) : "?"} s; ` +
                    `client: ${failureTimeline(loop.attempts, killedAt).join("; ")}\n`,
            );
            const acked = loop.attempts.filter((a) => a.ok).map((a) => a.n);
            const have = new Set(execIn(writer, ["sh", "-c", `${psql} -c "SELECT n FROM swarm_bench WHERE run = '${tag}'"`], { timeoutMs: 30_000, env: { PGPASSWORD: pass } }).stdout.split(/\s+/).filter(Boolean).map(Number));
            const missing = acked.filter((n) => !have.has(n));
            lost += missing.length;
            notes.push(`run ${run}: leader ${leader} on ${leaderHost}, ${acked.length} acknowledged, ${missing.length} lost`);
        } finally {
            await loop.stop();
            await probe.stop();
            await s.lab.restoreHost(leaderHost);
        }
        // The old leader's host is back: it must rejoin as a replica, never a second primary.
        const settled = await eventually("the returned member rejoins: one leader, the rest streaming", 300_000, async () => {
            const m = await patroniCluster(await pgTask(s));
            if (m.filter((x) => x.role === "leader").length > 1) twoPrimaries = true;
            return patroniWhole(m, members.length) ? m : undefined;
        });
        for (const name of services(s).filter((n) => /^opscenter-pg-\d+$/.test(n))) {
            for (const t of await runningTasks(s, name)) {
                const inRecovery = execIn(t, ["sh", "-c", `psql -X -At -U postgres -h /var/run/postgresql -d postgres -c "SELECT pg_is_in_recovery()"`], { allowFail: true }).stdout.trim();
                const leaderNow = settled.find((x) => x.role === "leader")?.name;
                if (inRecovery === "f" && (!leaderNow || serviceOf(leaderNow) !== name)) twoPrimaries = true;
            }
        }
        await waitConverged(s.manager(), services(s), 420_000);
    }
    return summarise(samples, lost, {
        two_primaries_after_restart: twoPrimaries,
        phases_s: { patroni_old_leader_gone: median(lockExpired), patroni_new_leader_running: median(leaderRunning), first_write_through_haproxy: median(samples) },
        notes: `Swarm lab (${s.stack}): the Patroni leader's whole host killed (dockerd, containerd, every container; link cut); writes through ${env.DATABASE_HOST}:${env.DATABASE_PORT} as ${env.DATABASE_USER}, one psql per INSERT every 0.2 s from a Patroni container's namespaces on a surviving data host (outside its cgroup: swarmLoop.ts); ${notes.join("; ")}`,
    });
}

/**
 * A Sentinel-aware Redis client as shell (run with RPASS in the environment): `ask` sets $1 $2 to the master the
 * backend's sentinels name; `push(key)` RPUSHes $n there and prints the master and Redis's answer (an error such as
 * NOREPLICAS or READONLY says why a write failed).
 */
export function redisClient(s: StackLab): { pass: string; ask: string; push: (key: string) => string } {
    const env = backendEnv(s);
    const pass = secretOf(s, env.REDIS_PASSWORD_FILE);
    const sentinels = env.REDIS_SENTINELS.split(",");
    // Every call bounded at 2 s, as the Postgres client's PGCONNECT_TIMEOUT=2: without a bound, a redis-cli connecting to
    // the dead host waits out the kernel's SYN retries (about 2 min), and the loop measured that, not the failover
    // (first bench run, 2026-12-07: 42-73 s while Sentinel had switched the master 6.6 s after the kill).
    const ask = `for S in ${sentinels.join(" ")}; do M=$(timeout 2 redis-cli -h \${S%:*} -p \${S#*:} --raw sentinel get-master-addr-by-name ${env.REDIS_MASTER_NAME} 2>/dev/null | tr '\\n' ' '); [ -n "$M" ] && break; done; set -- $M`;
    const push = (key: string) =>
        `${ask}; [ -n "$1" ] || { echo no sentinel answered; exit 1; }; R=$(REDISCLI_AUTH="$RPASS" timeout 2 redis-cli -h $1 -p $2 --raw rpush ${key} $n 2>&1); echo "$1 $R"; echo "$R" | grep -qE '^[0-9]+$'`;
    return { pass, ask, push };
}

export async function swarmRedisHostCrash(s: StackLab, runs: number): Promise<CaseResult> {
    const env = backendEnv(s);
    const { pass, ask, push: pushTo } = redisClient(s);
    const addrHost = new Map([...s.planAddresses].map(([h, a]) => [a, h]));
    const samples: number[] = [];
    const notes: string[] = [];
    const sentinelSwitched: number[] = [];
    let lost = 0;
    for (let run = 1; run <= runs; run++) {
        const sentinelNames = services(s).filter((n) => /^opscenter-redis-sentinel-\d+$/.test(n));
        const probe = (await runningTasks(s, sentinelNames[0]))[0];
        const masterIp = await sentinelMaster(probe, env.REDIS_MASTER_NAME);
        const masterHost = addrHost.get(masterIp);
        if (!masterHost) throw new Error(`Sentinel's master ${masterIp} is no plan host address`);
        // Each run starts from a whole cluster: every other Redis node an online replica of the master (Swarm's health
        // checks pass long before a returned node is a replica again).
        const replicas = services(s).filter((n) => /^opscenter-redis-\d+$/.test(n)).length - 1;
        await waitReplicasOnline(probe, masterIp, pass, replicas);
        let client: RunningTask | undefined;
        for (const n of sentinelNames) for (const t of await runningTasks(s, n)) if (!client && t.node.hostname !== masterHost) client = t;
        if (!client) throw new Error(`no sentinel task off ${masterHost} to run the client in`);
        const key = `swarm:bench:${Date.now()}:${run}`;
        const push = pushTo(key);
        const loop = startLoop(client, push, { intervalS: 0.1, maxSeconds: 180, env: { RPASS: pass } });
        // Server side, apart from the client: the master this (surviving) sentinel names, every 0.2 s.
        const watch = startLoop(client, `timeout 2 redis-cli -p 26379 --raw sentinel get-master-addr-by-name ${env.REDIS_MASTER_NAME} | head -1`, { intervalS: 0.2, maxSeconds: 180 });
        try {
            await loop.okAfter(0, 5, 60_000);
            const killedAt = Date.now() / 1000;
            await s.lab.killHost(masterHost);
            const first = await loop.okAfter(killedAt, 1, 120_000);
            samples.push(r3(first.end - killedAt));
            await new Promise((r) => setTimeout(r, 3000));
            await loop.stop();
            await watch.stop();
            const switched = firstSeen(watch.attempts, killedAt, (d) => /^\d+\.\d+\.\d+\.\d+$/.test(d) && d !== masterIp);
            if (switched) sentinelSwitched.push(switched.end - killedAt);
            process.stdout.write(
                `   run ${run}: Sentinel named ${switched?.detail ?? "?"} +${switched ? (switched.end - killedAt).toFixed(1) : "?"} s; client: ${failureTimeline(loop.attempts, killedAt).join("; ")}\n`,
            );
            const acked = loop.attempts.filter((a) => a.ok).map((a) => a.n);
            const have = new Set(
                execIn(client, ["sh", "-c", `${ask}; REDISCLI_AUTH="$RPASS" redis-cli -h $1 -p $2 --raw lrange ${key} 0 -1`], { timeoutMs: 30_000, env: { RPASS: pass } })
                    .stdout.split(/\s+/).filter(Boolean).map(Number),
            );
            const missing = acked.filter((n) => !have.has(n));
            lost += missing.length;
            notes.push(`run ${run}: master on ${masterHost}, ${acked.length} acknowledged, ${missing.length} lost`);
        } finally {
            await loop.stop();
            await watch.stop();
            await s.lab.restoreHost(masterHost);
        }
        await waitConverged(s.manager(), services(s), 420_000);
    }
    return summarise(samples, lost, {
        phases_s: { sentinel_names_new_master: median(sentinelSwitched), first_write_acknowledged: median(samples) },
        notes: `Swarm lab (${s.stack}): the Redis master's whole host killed; a Sentinel-aware client (sentinels ${env.REDIS_SENTINELS}, the backend's) in a sentinel container's namespaces on a surviving host (outside its cgroup: swarmLoop.ts), one RPUSH every 0.1 s; ${notes.join("; ")}`,
    });
}
