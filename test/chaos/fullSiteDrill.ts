/**
 * The full-site recovery drill with real daemons: the old site is lost; restore the database (point-in-time, the
 * PITR path of test/chaos/pitrCluster.ts), restore Redis (the restore step renderers/redisRestore.ts renders, fed
 * from an RDB copy), "deploy" the restored tier with the program's rendered configs (two Patroni members of the new
 * cluster, HAProxy from renderHaproxyCfg, redis-1 through its rendered start script that waits for the restore
 * step, redis-2 as its replica), and verify health end to end: a Patroni leader and a streaming replica, the
 * application role's write through HAProxy, Redis PING, every key back on the master and on the replica.
 *
 * Stand-ins, as in pitr_restore: a local directory for the S3 bucket; a tiny `aws` on PATH that serves
 * `aws s3 cp s3://<bucket>/<key> <file>` from it, so the rendered restore script runs unchanged. The "hourly RDB
 * copy" is the old master's dump.rdb after SAVE, copied to `redis/<region>/dump-<UTC>.rdb` (what the backup
 * sidecar uploads). Not measured here: creating the new region's hosts and Swarm (`pulumi up`), image pulls.
 *
 * Used by bench/cases/fullSiteRecovery.ts (`npm run drill:full-site`) and test/chaos/pitrRestore.test.ts.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderHaproxyCfg } from "../../renderers/haproxy";
import { renderRedisConf, renderRedisStart } from "../../renderers/redis";
import { redisRestoreMarker, renderRedisRestoreScript } from "../../renderers/redisRestore";
import { httpJson, httpStatus, shiftPort } from "./patroniCluster";
import { PitrScenario, RestoreRun } from "./pitrCluster";
import { redisCmd, role } from "./redisCluster";
import { Daemon, requireBinaries, run, startDaemon, stopDaemon, waitFor } from "./support";

const HOST = "127.0.0.1";
/** The design document's RTO for a full-site recovery, seconds. */
export const DESIGN_RTO_S = 15 * 60;
/** Redis 26141-26143; the restored cluster's router in the Postgres range (shifted by OCHAOS_PG_PORT_OFFSET). */
const PORTS = { oldRedis: 26141, redis: [26142, 26143], haPrimary: shiftPort(25143), haReplica: shiftPort(25144), haStats: shiftPort(25145) } as const;
const BUCKET = "ops-center-ha-us-east-1-wal-123456789012";
const REGION = "us-east-1";
const KEYS = 1000;

export interface DrillResult {
    /** Seconds from "site lost, start recovery" to every health check passing. */
    readonly totalSeconds: number;
    /** Phase -> seconds after the start at which it ended. */
    readonly phases: Record<string, number>;
    readonly pitr: RestoreRun;
    /** Keys written to the old site's Redis before its RDB copy, and found on the restored master and replica. */
    readonly redisKeys: { readonly written: number; readonly master: number; readonly replica: number };
    /** Each health check of the verify step. */
    readonly checks: Record<string, boolean>;
    /** Every health check of the verify step passed. */
    readonly healthy: boolean;
}

function write(file: string, text: string, mode: number): string {
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
    return file;
}

/** Runs the drill once. Everything started here is stopped by PID before it returns. */
export async function runFullSiteDrill(log: (line: string) => void = () => undefined): Promise<DrillResult> {
    requireBinaries({ "redis-server": "redis-server", "redis-cli": "redis-tools", haproxy: "haproxy" });
    const s = await PitrScenario.prepare();
    const daemons: Daemon[] = [];
    try {
        const root = path.join(s.source.dir, "redis-site");
        fs.mkdirSync(root);
        const password = randomBytes(24).toString("hex");
        const passwordFile = write(path.join(root, "redis_password"), password + "\n", 0o400);
        const node = (name: string, port: number, replicaOf?: number) => {
            const dir = path.join(root, name);
            fs.mkdirSync(dir);
            const source = write(path.join(root, `${name}.conf`), renderRedisConf({ name, region: "primary", port, bind: HOST, announceHost: HOST, dataDir: dir, replicaOf: replicaOf ? { host: HOST, port: replicaOf } : undefined }), 0o444);
            return { name, port, dir, source, conf: path.join(dir, "redis.conf") };
        };

        // The old site's Redis: keys written, SAVE, the RDB copied to the bucket as the hourly backup does; then lost.
        const old = node("old-redis-1", PORTS.oldRedis);
        const oldStart = write(path.join(root, "old-start.sh"), renderRedisStart({ configSource: old.source, configPath: old.conf, passwordFile }), 0o555);
        const oldDaemon = startDaemon("old-redis-1", "sh", [oldStart], path.join(root, "old-redis-1.log"));
        daemons.push(oldDaemon);
        await waitFor("the old site's Redis", async () => (await redisCmd(old.port, password, ["PING"]).catch(() => "")) === "PONG", { timeoutMs: 30_000, intervalMs: 100 });
        // A lone master refuses writes (min-replicas-to-write 1): the old site's data is only the input of the drill.
        await redisCmd(old.port, password, ["CONFIG", "SET", "min-replicas-to-write", "0"]);
        for (let i = 0; i < KEYS; i += 100) {
            const args: (string | number)[] = ["MSET"];
            for (let j = i; j < i + 100; j++) args.push(`session:${j}`, `value-${j}`);
            await redisCmd(old.port, password, args);
        }
        await redisCmd(old.port, password, ["SAVE"]);
        const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
        const key = `redis/${REGION}/dump-${stamp}.rdb`;
        fs.mkdirSync(path.join(s.bucket, path.dirname(key)), { recursive: true });
        fs.copyFileSync(path.join(old.dir, "dump.rdb"), path.join(s.bucket, key));
        await stopDaemon(oldDaemon);

        // The stand-in `aws`: only `aws s3 cp [--flags] s3://<bucket>/<key> <dest>`, served from the local bucket.
        const bin = path.join(root, "bin");
        fs.mkdirSync(bin);
        write(path.join(bin, "aws"), [
            "#!/bin/sh",
            "# Stand-in for the AWS CLI in the drill: aws s3 cp s3://<bucket>/<key> <dest> from a local directory.",
            "set -eu",
            '[ "$1" = s3 ] && [ "$2" = cp ] || { echo "aws stand-in: only s3 cp" >&2; exit 2; }',
            'for a in "$@"; do src="${dst:-}"; dst="$a"; done',
            `case "$src" in s3://${BUCKET}/*) cp "${s.bucket}/\${src#s3://${BUCKET}/}" "$dst" ;; *) echo "aws stand-in: no such bucket: $src" >&2; exit 1 ;; esac`,
            "",
        ].join("\n"), 0o555);

        // ---- the site is lost: recovery starts now.
        const t0 = Date.now();
        const phases: Record<string, number> = {};
        const mark = (p: string) => {
            phases[p] = (Date.now() - t0) / 1000;
            log(`   ${p}: ${phases[p].toFixed(1)} s`);
        };
        const r1 = node("redis-1", PORTS.redis[0]);
        const r2 = node("redis-2", PORTS.redis[1], PORTS.redis[0]);
        const redisTier = (async () => {
            // Deploy order does not matter, as on the Swarm: redis-1 waits for the restore step's marker.
            const marker = redisRestoreMarker(r1.dir);
            const start1 = write(path.join(root, "redis-1-start.sh"), renderRedisStart({ configSource: r1.source, configPath: r1.conf, passwordFile, waitForRestore: marker }), 0o555);
            daemons.push(startDaemon("redis-1", "sh", [start1], path.join(root, "redis-1.log")));
            const restoreScript = write(path.join(root, "redis-restore.sh"), renderRedisRestoreScript({ bucket: BUCKET, region: REGION, key, dataDir: r1.dir, owner: "0:0" }), 0o555);
            const restoreStep = startDaemon("redis-restore", "sh", [restoreScript], path.join(root, "redis-restore.log"), { env: { PATH: `${bin}:${process.env.PATH}` } });
            daemons.push(restoreStep);
            await waitFor("the Redis restore step's marker", () => fs.existsSync(marker), { timeoutMs: 60_000, intervalMs: 100 });
            mark("redis_rdb_restored");
            const start2 = write(path.join(root, "redis-2-start.sh"), renderRedisStart({ configSource: r2.source, configPath: r2.conf, passwordFile }), 0o555);
            daemons.push(startDaemon("redis-2", "sh", [start2], path.join(root, "redis-2.log")));
            await waitFor("restored Redis master PING", async () => (await redisCmd(r1.port, password, ["PING"]).catch(() => "")) === "PONG", { timeoutMs: 60_000, intervalMs: 100 });
            mark("redis_master_up");
        })();
        const dbTier = (async () => {
            const pitr = await s.restore(2);
            mark("postgres_restored");
            return pitr;
        })();
        const [pitr] = await Promise.all([dbTier, redisTier]);

        // "Deploy" the rest of the data tier: the restored cluster's replica streams; HAProxy routes to its leader.
        await s.waitRestoredReplicas(180_000);
        mark("postgres_replica_streaming");
        const ha = path.join(root, "haproxy.cfg");
        fs.writeFileSync(ha, renderHaproxyCfg({
            servers: s.restored.map((m) => ({ name: m.name, host: HOST, port: m.pgPort, apiPort: m.apiPort })),
            bindAddress: HOST, primaryPort: PORTS.haPrimary, replicaPort: PORTS.haReplica, statsPort: PORTS.haStats,
        }));
        run("haproxy", ["-c", "-q", "-f", ha]);
        daemons.push(startDaemon("haproxy-restored", "haproxy", ["-db", "-f", ha], path.join(root, "haproxy.log")));

        // ---- verify health end to end.
        const c = s.source;
        const leader = s.restored[0];
        const appWrite = await waitFor("the application role's write through HAProxy to the restored leader", async () => {
            const r = await c.sqlAs(PORTS.haPrimary, c.roles.appRole, c.rolePasswords.app, c.roles.appDatabase, "INSERT INTO restored_ok DEFAULT VALUES RETURNING inet_server_port()", 5000);
            return r.code === 0 && Number(r.stdout.trim()) === leader.pgPort ? true : undefined;
        }, { timeoutMs: 60_000, intervalMs: 300 });
        // 5 s for the answer (a loaded machine's Patroni has missed 1 s); any answer but 200 counts at once.
        const patroniLeader = (await httpStatus(leader.apiPort, "/primary", 5_000)) === 200;
        // Patroni reports a replica's state from its own loop: give it a few loops after Postgres streams.
        type Member = { name: string; role: string; state: string };
        let members: Member[] = [];
        const streamingOk = () => members.some((m) => m.role === "leader") && members.filter((m) => m.state === "streaming").length === s.restored.length - 1;
        await waitFor("Patroni to report the restored leader and its streaming replica", async () => {
            members = ((await httpJson(leader.apiPort, "/cluster").catch(() => ({ members: [] }))) as { members: Member[] }).members;
            return streamingOk();
        }, { timeoutMs: 30_000, intervalMs: 500 }).catch(() => false);
        const patroniOk = patroniLeader && streamingOk();
        await waitFor("redis-2 replicating from the restored master", async () => {
            const r = await role({ password } as never, r2.port).catch(() => undefined);
            return r?.role === "slave" && r.link === "connected";
        }, { timeoutMs: 60_000, intervalMs: 200 });
        const master = Number(await redisCmd(r1.port, password, ["DBSIZE"]));
        const replica = await waitFor("redis-2 to hold every key", async () => {
            const n = Number(await redisCmd(r2.port, password, ["DBSIZE"]));
            return n === KEYS ? n : undefined;
        }, { timeoutMs: 60_000, intervalMs: 200 }).catch(() => Number.NaN);
        const sample = await redisCmd(r1.port, password, ["GET", "session:777"]);
        mark("verified");
        const checks = {
            app_role_write_through_haproxy: appWrite === true,
            patroni_leader: patroniLeader,
            patroni_replicas_streaming: patroniOk,
            redis_master_keys: master === KEYS,
            redis_replica_keys: replica === KEYS,
            redis_value: sample === "value-777",
            pitr_row_rule: pitr.rowsAfterTarget === 0 && pitr.rowsMissingBeforeTarget === 0,
        };
        if (!patroniOk) log(`   GET /cluster: ${JSON.stringify(members)}`);
        const healthy = Object.values(checks).every(Boolean);
        return { totalSeconds: (Date.now() - t0) / 1000, phases, pitr, redisKeys: { written: KEYS, master, replica }, checks, healthy };
    } finally {
        for (const d of daemons.reverse()) await stopDaemon(d);
        await s.stop();
    }
}
