/**
 * Bench case `region_redis_promotion` (issue 10): the Redis topology of both regions from the rendered files
 * (test/chaos/redisCluster.ts: the primary region's master, two replicas and three sentinels; the standby region's
 * priority-0 replica following the primary's master), a Sentinel-aware writer into the primary, the whole primary
 * region SIGKILLed (master, replicas, sentinels), then the documented promotion: `REDIS_PROMOTE_COMMANDS`
 * (lib/promotion.ts: REPLICAOF NO ONE, CONFIG REWRITE), the commands `npm run promote` runs with redis-cli inside the
 * node's container. Per run: seconds from the promotion command to the first SET acknowledged by the standby, the
 * keys acknowledged before the kill and missing after, the replication lag at the kill (bytes), whether the node stays
 * the master across the restart `pulumi up` gives it with the promoted (role primary) config, and the old region
 * restarted as it was.
 */
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import { REDIS_PROMOTE_COMMANDS } from "../../lib/promotion";
import { renderRedisConf } from "../../renderers/redis";
import { Ack, findLost, redisCmd, RedisCluster, RedisNode, role, SentinelWriter, startRedisCluster, waitRedisReady } from "../../test/chaos/redisCluster";
import { fenceBuckets, fencedLines, recordFence } from "../../test/chaos/fenceStandIn";
import { scratchDir, signalDaemon, sleep, stopDaemon, waitExit, waitFor } from "../../test/chaos/support";
import { BenchCase, CaseResult, median, summarise } from "../types";

export const OLD_REDIS_WINDOW_MS = 30_000;

/** `INFO replication` as a field map. */
async function replicationInfo(c: RedisCluster, port: number): Promise<Record<string, string>> {
    const text = String(await redisCmd(port, c.password, ["INFO", "replication"]));
    return Object.fromEntries(text.split("\r\n").filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]));
}

/** One run's figures. */
export interface RedisRegionRun {
    readonly seconds: number;
    readonly acknowledged: number;
    readonly lost: Ack[];
    /** master_repl_offset - the standby's slave_repl_offset, read just before the kill. */
    readonly lagBytes: number;
    /** Acks after the lag probe (what the lag can explain). */
    readonly ackedAfterProbe: number;
    /** ROLE of the promoted node after the restart `pulumi up` gives it with the role-primary config. */
    readonly roleAfterRedeploy: string;
    readonly keysAfterRedeploy: number;
    /**
     * The old region restarted as it was: SETs it acknowledged, the promoted node's role at the end, and the log lines
     * in which its nodes' and sentinels' start gates said they are fenced (one list per node and sentinel).
     */
    readonly old: { readonly writesAccepted: number; readonly attempts: number; readonly promotedRole: string; readonly fenced: string[][] };
}

/** The promotion as `npm run promote` runs it (each command must answer OK). Returns when the last one answered. */
export async function promoteRedis(c: RedisCluster, node: RedisNode): Promise<void> {
    for (const cmd of REDIS_PROMOTE_COMMANDS) {
        const r = await redisCmd(node.port, c.password, [...cmd]);
        if (r !== "OK") throw new Error(`${cmd.join(" ")} answered ${JSON.stringify(r)}`);
    }
}

/**
 * What `pulumi up` with `role: primary` does to the node: a new rendered config (the primary region's first node: no
 * replicaof, min-replicas-to-write) and a restart through the same start script.
 */
export async function redeployAsPrimary(c: RedisCluster, node: RedisNode): Promise<void> {
    const dir = node.conf.slice(0, node.conf.lastIndexOf("/"));
    fs.chmodSync(node.source, 0o644);
    fs.writeFileSync(node.source, renderRedisConf({ name: node.name, region: "primary", port: node.port, bind: "127.0.0.1", announceHost: "127.0.0.1", dataDir: dir }));
    fs.chmodSync(node.source, 0o444);
    await stopDaemon(node.daemon!);
    c.restart(node);
    await waitFor(`${node.name} answering after the restart`, async () => {
        const info = await replicationInfo(c, node.port).catch(() => undefined);
        return info !== undefined && (await redisCmd(node.port, c.password, ["DBSIZE"]).catch(() => -1)) !== -1;
    }, { timeoutMs: 20_000, intervalMs: 100 });
}

export async function regionRedisRun(oldWindowMs = OLD_REDIS_WINDOW_MS): Promise<RedisRegionRun> {
    // Both regions' WAL buckets, stand-ins (local directories): the primary region's nodes and sentinels start through
    // the fence gate, its fence sync copying both regions' records (renderers/fence.ts).
    const buckets = fenceBuckets(scratchDir("fence-buckets"), "us-east-1", "us-west-2");
    const c = await startRedisCluster({ fence: { region: buckets.primaryRegion, sources: buckets.sources } });
    try {
        await waitRedisReady(c);
        const standby = c.nodes.find((n) => n.standby)!;
        const gated = [...c.nodes.filter((n) => !n.standby), ...c.sentinels];
        // The whole region dies, its fence sync with it.
        const primaryRegion = [...gated, c.fenceSync!];
        const w = new SentinelWriter(c);
        w.start();
        await waitFor("200 acknowledged writes in the primary region", () => w.acks.length >= 200, { timeoutMs: 20_000 });
        const [m, s] = await Promise.all([replicationInfo(c, c.nodes[0].port), replicationInfo(c, standby.port)]);
        const acksAtProbe = w.acks.length;
        const lagBytes = Number(m.master_repl_offset) - Number(s.slave_repl_offset);
        for (const n of primaryRegion) signalDaemon(n.daemon!, "SIGKILL");
        for (const n of primaryRegion) await waitExit(n.daemon!, 10_000);
        await w.stop();
        const acks = [...w.acks];

        const t0 = performance.now();
        await promoteRedis(c, standby);
        // What npm run promote does next: the fence record, into the promoted region's bucket only (the old one is dead).
        recordFence(buckets, buckets.standbyRegion, { oldRegionReachable: false });
        const tFirst = await waitFor("the first SET acknowledged by the promoted standby", async () => {
            const r = await redisCmd(standby.port, c.password, ["SET", "promoted:first", "1"]).catch(() => undefined);
            return r === "OK" ? performance.now() : undefined;
        }, { timeoutMs: 30_000, intervalMs: 20 });
        const lost = await findLost(c, standby.port, acks);

        await redeployAsPrimary(c, standby);
        const after = await role(c, standby.port);
        const keysAfterRedeploy = Number(await redisCmd(standby.port, c.password, ["DBSIZE"]));

        // The old region comes back as it was: its fence sync, master, replicas and sentinels from their own files and state.
        c.restart(c.fenceSync!);
        for (const n of gated) c.restart(n);
        let accepted = 0;
        let attempts = 0;
        const end = Date.now() + oldWindowMs;
        for (let i = 0; i < 1000 && Date.now() < end; i++) {
            for (const n of c.nodes.filter((x) => !x.standby)) {
                attempts++;
                if ((await redisCmd(n.port, c.password, ["SET", `old:${attempts}`, attempts]).catch(() => undefined)) === "OK") accepted++;
            }
            await sleep(500);
        }
        const promotedRole = (await role(c, standby.port).catch(() => ({ role: "unreachable" }))).role;
        // No record existed before the promotion, so every FENCED line in a log is from this restart.
        const fenced = gated.map((n) => fencedLines(n.daemon!.logFile));
        return {
            seconds: (tFirst - t0) / 1000,
            acknowledged: acks.length,
            lost,
            lagBytes,
            ackedAfterProbe: acks.length - acksAtProbe,
            roleAfterRedeploy: after.role,
            keysAfterRedeploy,
            old: { writesAccepted: accepted, attempts, promotedRole, fenced },
        };
    } finally {
        await c.stop();
    }
}

export const region_redis_promotion: BenchCase = async (runs: number): Promise<CaseResult> => {
    const samples: number[] = [];
    const lags: number[] = [];
    const perRun: string[] = [];
    let lost = 0;
    let oldAccepted = 0;
    for (let i = 0; i < runs; i++) {
        const x = await regionRedisRun();
        samples.push(x.seconds);
        lags.push(x.lagBytes);
        lost += x.lost.length;
        oldAccepted += x.old.writesAccepted;
        perRun.push(`${(x.seconds * 1000).toFixed(1)} ms, lag ${x.lagBytes} B, ${x.lost.length}/${x.acknowledged} keys lost, after the role-primary restart: ${x.roleAfterRedeploy} with ${x.keysAfterRedeploy} keys, old region: ${x.old.writesAccepted}/${x.old.attempts} SETs accepted, promoted node ${x.old.promotedRole}`);
        process.stdout.write(`   run ${i + 1}: ${perRun[perRun.length - 1]}\n`);
    }
    return summarise(samples, lost, {
        replication_lag_at_kill_bytes: median(lags),
        old_region_writes_accepted: oldAccepted,
        notes:
            `seconds from the promotion command (REPLICAOF NO ONE, CONFIG REWRITE on the standby's replica) to its first acknowledged SET; ` +
            `the whole primary region SIGKILLed (master, 2 replicas, 3 sentinels) under a Sentinel-aware writer; acknowledged writes lost = keys acknowledged before the kill missing after; ` +
            `the old region restarted as it was for ${OLD_REDIS_WINDOW_MS / 1000} s, its nodes and sentinels through the fence gate (the fence recorded in the promoted region's bucket only; directories stand in for both buckets): ${oldAccepted} SETs accepted; ` +
            `runs: ${perRun.join("; ")}`,
    });
};
