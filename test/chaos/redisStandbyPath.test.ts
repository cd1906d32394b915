/**
 * The standby region's backend Redis path (issue 8), against real redis-server: the standby replica, started from
 * its rendered redis.conf (with the maxmemory the Redis component renders) and start script, serves the primary's
 * data to a client that authenticates with the shared password (the standby backend's REDIS_ADDRESS), refuses
 * writes until the fenced promotion, and runs with maxmemory below its container limit and noeviction.
 * Ports 26111 (master) and 26114 (standby replica) on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { memoryBytes } from "../../lib/swarmSpec";
import { TIER_SIZES } from "../../lib/sizing";
import { renderRedisConf, renderRedisStart } from "../../renderers/redis";
import { redisCmd, RespError } from "./redisCluster";
import { Daemon, requireBinaries, scratchDir, startDaemon, stopAll, stopDaemon, waitFor } from "./support";

const HOST = "127.0.0.1";
const PORTS = { master: 26111, standby: 26114 } as const;
/** What components/redis.ts renders: three quarters of the tier's memory limit, in MiB. */
const MAXMEMORY_MB = Math.floor((0.75 * memoryBytes(TIER_SIZES.redis.limits.memory)) / 1024 ** 2);

describe("the standby region's Redis path, from the rendered files", () => {
    const daemons: Daemon[] = [];
    let password = "";

    before(async () => {
        requireBinaries({ "redis-server": "redis-server" });
        const root = scratchDir("redis-standby-path");
        password = randomBytes(24).toString("hex");
        const passwordFile = path.join(root, "redis_password");
        fs.writeFileSync(passwordFile, password + "\n", { mode: 0o400 });
        const start = (name: string, conf: (dir: string) => string) => {
            const dir = path.join(root, name);
            fs.mkdirSync(dir);
            const source = path.join(root, `${name}.conf`);
            fs.writeFileSync(source, conf(dir), { mode: 0o444 });
            const script = path.join(root, `${name}-start.sh`);
            fs.writeFileSync(script, renderRedisStart({ configSource: source, configPath: path.join(dir, "redis.conf"), passwordFile }), { mode: 0o555 });
            daemons.push(startDaemon(name, "sh", [script], path.join(root, `${name}.log`)));
        };
        start("master", (dir) => renderRedisConf({ name: "master", region: "primary", port: PORTS.master, bind: HOST, announceHost: HOST, dataDir: dir, maxmemoryMb: MAXMEMORY_MB }));
        start("standby", (dir) =>
            renderRedisConf({ name: "standby", region: "standby", port: PORTS.standby, bind: HOST, announceHost: HOST, dataDir: dir, replicaOf: { host: HOST, port: PORTS.master }, maxmemoryMb: MAXMEMORY_MB }),
        );
        await waitFor("standby replica linked to the master", async () => {
            const r = (await redisCmd(PORTS.standby, password, ["ROLE"])) as unknown[];
            return r[0] === "slave" && r[3] === "connected";
        }, { timeoutMs: 15_000, intervalMs: 100 });
    });

    after(async () => {
        for (const d of daemons.reverse()) await stopDaemon(d);
        await stopAll();
    });

    it("serves the primary's data to the standby backend (REDIS_ADDRESS + the password) and refuses writes until promotion", async () => {
        await redisCmd(PORTS.master, password, ["SET", "session:42", "alice"]);
        await waitFor("the session replicated to the standby", async () => (await redisCmd(PORTS.standby, password, ["GET", "session:42"])) === "alice", { timeoutMs: 5_000, intervalMs: 50 });
        await assert.rejects(redisCmd(PORTS.standby, undefined, ["GET", "session:42"]), RespError, "no password, no data");
        await assert.rejects(redisCmd(PORTS.standby, password, ["SET", "session:43", "bob"]), (e: unknown) => e instanceof RespError && /^READONLY/.test(e.message));
    });

    it("runs with maxmemory below the container's memory limit and noeviction", async () => {
        for (const port of [PORTS.master, PORTS.standby]) {
            assert.deepEqual(await redisCmd(port, password, ["CONFIG", "GET", "maxmemory"]), ["maxmemory", String(MAXMEMORY_MB * 1024 ** 2)]);
            assert.deepEqual(await redisCmd(port, password, ["CONFIG", "GET", "maxmemory-policy"]), ["maxmemory-policy", "noeviction"]);
        }
        assert.ok(MAXMEMORY_MB * 1024 ** 2 < memoryBytes(TIER_SIZES.redis.limits.memory));
    });
});
