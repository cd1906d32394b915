/**
 * Chaos test of a Redis node that comes back with an empty data volume (a replaced data host), with the rendered
 * configs and start scripts on real redis-server/redis-sentinel (test/chaos/redisCluster.ts: master 26101, replicas
 * 26102-26103, the standby region's replica 26104 following 26101, sentinels 26201-26203). Each node that exits on
 * its own is restarted after 2 s, as the services' Swarm restart policy does (components/redis.ts, delay 2s).
 *
 * The rule (renderers/redisScripts.ts renderRedisStart): a node with no copy of its config (an empty volume) asks
 * the sentinels for the master first and starts as its replica; when they name the node itself (its own master died
 * with the host and they have not failed over yet) it refuses to start as an empty master and exits, so that they
 * fail over to a replica that has the data; only when no sentinel answers does it take its configured role. So the
 * node the standby region follows is never an empty master, and the standby never resyncs from one (a replica that
 * is not yet in sync refuses SYNC from its own replicas: NOMASTERLINK).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { RedisCluster, RedisNode, RespError, redisCmd, role, sentinelMasterPort, startRedisCluster, waitRedisReady } from "./redisCluster";
import { signalDaemon, sleep, stopAll, stopDaemon, waitExit, waitFor } from "./support";

const KEYS = 500;
/** components/redis.ts pinnedService: restartPolicy condition any, delay 2s. */
const SWARM_RESTART_DELAY_MS = 2_000;

describe("an empty Redis node joins the master the sentinels report; the standby never resyncs from an empty master", () => {
    let c: RedisCluster | undefined;
    const k = (): RedisCluster => {
        assert.ok(c, "cluster did not start");
        return c;
    };
    const stopping = new Set<RedisNode>();
    let restarts = 0;
    /** Starts n through its start script; restarts it 2 s after it exits on its own (at most 40 restarts in all). */
    const supervise = (n: RedisNode) => {
        k().restart(n);
        const d = n.daemon!;
        d.child.on("exit", () => {
            if (stopping.has(n) || n.daemon !== d || restarts >= 40) return;
            restarts++;
            setTimeout(() => {
                if (!stopping.has(n) && n.daemon === d) supervise(n);
            }, SWARM_RESTART_DELAY_MS);
        });
    };
    const stop = async (n: RedisNode, signal: "SIGKILL" | "SIGTERM" = "SIGTERM") => {
        stopping.add(n);
        if (signal === "SIGKILL") {
            signalDaemon(n.daemon!, "SIGKILL");
            await waitExit(n.daemon!, 5_000);
        } else {
            await stopDaemon(n.daemon!);
        }
        stopping.delete(n);
    };
    /** Wipes the node's volume: the writable config copy, the AOF directory and the RDB. */
    const wipe = (n: RedisNode) => {
        const dir = path.dirname(n.conf);
        for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    };
    const node = (name: string) => k().nodes.find((n) => n.name === name)!;
    const dbsize = async (port: number) => Number(await redisCmd(port, k().password, ["DBSIZE"]));
    const masterNow = async () => sentinelMasterPort(k().sentinels[1].port);

    /**
     * Polls, every 50 ms until stopped, the key count of every node but `skip`, and the role of `watch`: the least
     * count seen on each, and whether `watch` ever answered as a master. A LOADING reply (a replica loading a full
     * sync) is not a count.
     */
    const observe = (skip: number, watch: number) => {
        const min = new Map<number, number>();
        let watchedAsMaster = 0;
        let run = true;
        const done = (async () => {
            const deadline = Date.now() + 120_000;
            while (run && Date.now() < deadline) {
                for (const n of k().nodes) {
                    if (n.port === skip) continue;
                    try {
                        const s = await dbsize(n.port);
                        min.set(n.port, Math.min(min.get(n.port) ?? Infinity, s));
                    } catch (e) {
                        if (!(e instanceof RespError) || !/LOADING/.test(e.message)) continue;
                    }
                }
                try {
                    if ((await role(k(), watch)).role === "master") watchedAsMaster++;
                } catch {
                    // not up (yet)
                }
                await sleep(50);
            }
        })();
        return { min, masterAnswers: () => watchedAsMaster, stop: async () => { run = false; await done; } };
    };

    before(async () => {
        c = await startRedisCluster();
        await waitRedisReady(c);
        const master = c.nodes[0].port;
        for (let i = 0; i < KEYS; i += 100) {
            await redisCmd(master, c.password, ["MSET", ...Array.from({ length: 100 }, (_, j) => [`k:${i + j}`, String(i + j)]).flat()]);
        }
        for (const n of c.nodes) await waitFor(`${n.name} has the ${KEYS} keys`, async () => (await dbsize(n.port)) === KEYS, { timeoutMs: 15_000 });
        // From here on, every node restarts like a Swarm task when it exits on its own.
        for (const n of c.nodes) {
            const d = n.daemon!;
            d.child.on("exit", () => {
                if (stopping.has(n) || n.daemon !== d || restarts >= 40) return;
                restarts++;
                setTimeout(() => { if (!stopping.has(n) && n.daemon === d) supervise(n); }, SWARM_RESTART_DELAY_MS);
            });
        }
    });

    after(async () => {
        for (const n of [...(c?.nodes ?? []), ...(c?.sentinels ?? [])]) stopping.add(n);
        await c?.stop();
        await stopAll();
    });

    it("the master's host is replaced (killed, volume wiped, restarted at once): it never serves as an empty master, nobody loses a key", async () => {
        const r1 = node("redis-1");
        const obs = observe(r1.port, r1.port);
        let settled: unknown;
        try {
            await stop(r1, "SIGKILL");
            wipe(r1);
            await sleep(SWARM_RESTART_DELAY_MS);
            supervise(r1);
            const m = await waitFor("the sentinels fail over to a replica with the data", async () => { const p = await masterNow(); return p !== r1.port ? p : undefined; }, { timeoutMs: 60_000, intervalMs: 250 });
            await waitFor("redis-1 back as a replica of the new master, with every key", async () => {
                const r = await role(k(), r1.port);
                return r.role === "slave" && r.masterPort === m && r.link === "connected" && (await dbsize(r1.port)) === KEYS;
            }, { timeoutMs: 60_000, intervalMs: 250 });
            const sb = k().nodes.find((n) => n.standby)!;
            await waitFor("the standby replica linked again, with every key", async () => {
                const r = await role(k(), sb.port);
                return r.link === "connected" && (await dbsize(sb.port)) === KEYS;
            }, { timeoutMs: 60_000, intervalMs: 250 });
            await sleep(1_000);
        } catch (e) {
            settled = e;
        } finally {
            await obs.stop();
        }
        // What was observed first (the cause), then whether the tier settled.
        for (const [port, least] of obs.min) assert.equal(least, KEYS, `node :${port} dropped to ${least} keys (resynced from an empty master)`);
        assert.equal(obs.masterAnswers(), 0, "redis-1 answered ROLE as a master with an empty data set");
        if (settled) throw settled;
    });

    it("an empty replica (its rendered role: master) starts as a replica of the master the sentinels report", async () => {
        const r1 = node("redis-1");
        const m = await masterNow();
        assert.notEqual(m, r1.port);
        await stop(r1);
        wipe(r1);
        supervise(r1);
        const first = await waitFor("redis-1 answers ROLE", async () => role(k(), r1.port).catch(() => undefined), { timeoutMs: 20_000, intervalMs: 50 });
        assert.equal(first.role, "slave", "redis-1 must start as a replica, not as its rendered master role");
        assert.equal(first.masterPort, m);
        await waitFor("redis-1 in sync", async () => (await dbsize(r1.port)) === KEYS, { timeoutMs: 30_000, intervalMs: 250 });
    });

    it("an empty sentinel monitors the master the other sentinels report, not its rendered initial master", async () => {
        const s1 = k().sentinels[0];
        const m = await masterNow();
        stopping.add(s1);
        await stopDaemon(s1.daemon!);
        wipe(s1);
        k().restart(s1);
        const first = await waitFor("sentinel-1 answers", async () => sentinelMasterPort(s1.port).catch(() => undefined), { timeoutMs: 20_000, intervalMs: 50 });
        assert.equal(first, m, "sentinel-1 must watch the current master from its first answer");
    });

    it("with no sentinel answering, an empty node takes its configured role (the first deploy)", async () => {
        for (const s of k().sentinels) {
            stopping.add(s);
            await stopDaemon(s.daemon!);
        }
        const r1 = node("redis-1");
        await stop(r1);
        wipe(r1);
        stopping.add(r1);
        k().restart(r1);
        const first = await waitFor("redis-1 answers ROLE", async () => role(k(), r1.port).catch(() => undefined), { timeoutMs: 20_000, intervalMs: 50 });
        assert.equal(first.role, "master", "rendered role of redis-1");
    });
});
