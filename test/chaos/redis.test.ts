/**
 * Chaos test of the Redis tier: the rendered redis.conf / sentinel.conf and start scripts run real
 * redis-server and redis-sentinel (master, 2 replicas, the standby region's priority-0 replica, 3 sentinels)
 * on 127.0.0.1:26101-26104 / 26201-26203. kill -9 of the master must lead to a new master chosen by the
 * sentinels that accepts writes, never the priority-0 replica, with every replica following it.
 * Redis replication is asynchronous: acknowledged writes lost are reported, not asserted to be zero.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { REDIS_DEFAULTS } from "../../renderers/redis";
import {
    RedisCluster, RedisFailover, RespError, killMasterAndMeasure, redisCmd, role, sentinelMaster, sentinelMasterPort,
    startRedisCluster, waitRedisReady,
} from "./redisCluster";
import { stopAll, stopDaemon, waitFor } from "./support";

/** Port of the standby region's replica in the scenario. */
function standbyPort(k: RedisCluster): number {
    return k.nodes.find((n) => n.standby)!.port;
}

describe("redis sentinel failover, from the rendered configs and start scripts", () => {
    let c: RedisCluster | undefined;
    let failover: RedisFailover | undefined;
    const cluster = (): RedisCluster => {
        assert.ok(c, "cluster did not start");
        return c;
    };

    before(async () => {
        c = await startRedisCluster();
        await waitRedisReady(c);
    });

    after(async () => {
        await c?.stop();
        await stopAll();
    });

    it("runs what was rendered: auth on, no password in the rendered files, persistence and min-replicas set", async () => {
        const k = cluster();
        for (const n of [...k.nodes, ...k.sentinels]) {
            assert.ok(!fs.readFileSync(n.source, "utf8").includes(k.password), `${n.source} must not hold the password`);
            assert.ok(!fs.readFileSync(n.script, "utf8").includes(k.password), `${n.script} must not hold the password`);
        }
        const master = k.nodes[0].port;
        await assert.rejects(redisCmd(master, undefined, ["SET", "x", "1"]), (e: unknown) => e instanceof RespError && /NOAUTH/.test(e.message));
        await assert.rejects(redisCmd(master, "wrong-password-123456", ["PING"]), RespError);
        const cfg = async (port: number, key: string) => ((await redisCmd(port, k.password, ["CONFIG", "GET", key])) as string[])[1];
        assert.equal(await cfg(master, "appendonly"), "yes");
        assert.equal(await cfg(master, "appendfsync"), "everysec");
        assert.equal(await cfg(master, "save"), "900 1 300 10");
        assert.equal(await cfg(master, "min-replicas-to-write"), "1");
        assert.equal(await cfg(master, "min-replicas-max-lag"), "10");
        assert.equal(await cfg(standbyPort(k), "replica-priority"), "0");
        const m = await sentinelMaster(k.sentinels[0].port);
        assert.equal(m["quorum"], String(REDIS_DEFAULTS.quorum));
        assert.equal(m["down-after-milliseconds"], String(REDIS_DEFAULTS.downAfterMs));
        assert.equal(m["failover-timeout"], String(REDIS_DEFAULTS.failoverTimeoutMs));
    });

    it("kill -9 of the master: the sentinels promote a replica, never the priority-0 one, and it takes writes", async () => {
        const k = cluster();
        failover = await killMasterAndMeasure(k);
        const f = failover;
        console.log(`redis failover: new master :${f.newMasterPort}, first write after ${f.seconds.toFixed(2)} s, ` +
            `${f.lost} of ${f.acknowledged} acknowledged writes lost (${f.lostOlderThan1s} acknowledged > 1 s before the kill)`);
        assert.notEqual(f.newMasterPort, f.oldMasterPort);
        assert.notEqual(f.newMasterPort, standbyPort(k), "the priority-0 standby replica must never be promoted");
        assert.ok(k.nodes.slice(1, 3).some((n) => n.port === f.newMasterPort), "a primary-region replica is the new master");
        assert.equal((await role(k, f.newMasterPort)).role, "master");
        assert.equal(f.lostOlderThan1s, 0, "writes acknowledged well before the kill had been replicated");
        for (const s of k.sentinels) {
            await waitFor(`${s.name} naming the new master`, async () => (await sentinelMasterPort(s.port)) === f.newMasterPort, { timeoutMs: 15_000 });
        }
    });

    it("every replica, the standby region's included, follows the new master", async () => {
        const k = cluster();
        assert.ok(failover, "failover did not happen");
        const f = failover;
        for (const n of k.nodes.filter((x) => x.port !== f.newMasterPort && x.port !== f.oldMasterPort)) {
            await waitFor(`${n.name} replicating from the new master`, async () => {
                const r = await role(k, n.port);
                return r.role === "slave" && r.masterPort === f.newMasterPort && r.link === "connected";
            }, { timeoutMs: 30_000, intervalMs: 200 });
        }
        // The role Sentinel gave each node was written back by CONFIG REWRITE: the start script keeps it on restart.
        const promoted = k.nodes.find((n) => n.port === f.newMasterPort)!;
        assert.doesNotMatch(fs.readFileSync(promoted.conf, "utf8"), /^replicaof /m);
        const standby = k.nodes.find((n) => n.standby)!;
        assert.match(fs.readFileSync(standby.conf, "utf8"), new RegExp(`^replicaof 127\\.0\\.0\\.1 ${f.newMasterPort}$`, "m"));
        assert.match(fs.readFileSync(standby.conf, "utf8"), /^replica-priority 0$/m);
    });

    it("the killed master restarted by its start script refuses writes, then rejoins as a replica of the new master", async () => {
        const k = cluster();
        assert.ok(failover, "failover did not happen");
        const f = failover;
        const old = k.nodes[0];
        k.restart(old);
        // Until Sentinel converts it, it runs as a master without replicas: min-replicas-to-write refuses writes.
        await waitFor(`${old.name} answering`, async () => (await redisCmd(old.port, k.password, ["PING"])) === "PONG", { timeoutMs: 10_000 });
        await assert.rejects(redisCmd(old.port, k.password, ["SET", "stale-master-write", "1"]),
            (e: unknown) => e instanceof RespError && /^(NOREPLICAS|READONLY)/.test(e.message));
        await waitFor(`${old.name} converted to a replica of the new master`, async () => {
            const r = await role(k, old.port);
            return r.role === "slave" && r.masterPort === f.newMasterPort && r.link === "connected";
        }, { timeoutMs: 40_000, intervalMs: 250 });
    });

    it("a sentinel restarted by its start script keeps what it learned (master, id, epochs, peers)", async () => {
        const k = cluster();
        assert.ok(failover, "failover did not happen");
        const f = failover;
        const s = k.sentinels[2];
        const id = await redisCmd(s.port, undefined, ["SENTINEL", "MYID"]);
        const before = await sentinelMaster(s.port);
        assert.ok(Number(before["config-epoch"]) >= 1, "the failover bumped the config epoch");
        await stopDaemon(s.daemon!);
        k.restart(s);
        await waitFor(`${s.name} answering again`, async () => (await redisCmd(s.port, undefined, ["PING"])) === "PONG", { timeoutMs: 10_000 });
        assert.equal(await redisCmd(s.port, undefined, ["SENTINEL", "MYID"]), id);
        const m = await sentinelMaster(s.port);
        assert.equal(Number(m["port"]), f.newMasterPort, "the restarted sentinel still watches the new master");
        assert.equal(m["config-epoch"], before["config-epoch"]);
        assert.equal(m["num-other-sentinels"], "2");
        assert.equal(m["down-after-milliseconds"], String(REDIS_DEFAULTS.downAfterMs), "settings come from the rendered file");
        const copy = fs.readFileSync(s.conf, "utf8");
        assert.equal((copy.match(/^sentinel auth-pass /gm) ?? []).length, 1, "auth-pass appended once");
    });
});
