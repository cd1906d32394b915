/**
 * Issue 12 item 7 against the real daemons: the keepalives rendered for Swarm's 900 s VIP idle timeout
 * (lib/keepalive.ts; moby/moby#31208) are read and applied by the real HAProxy, Postgres 15, libpq and Redis.
 * The kernel shows it: `ss -o` prints `timer:(keepalive,<left>,...)` on a socket with SO_KEEPALIVE, counting
 * down from the socket's TCP_KEEPIDLE (the kernel default would be 7200 s). Ports 27410-27413 on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { SWARM_VIP_IDLE_TIMEOUT_SECONDS, TCP_KEEPALIVE, libpqKeepaliveOptions } from "../../lib/keepalive";
import { HAPROXY_DEFAULTS, renderHaproxyCfg } from "../../renderers/haproxy";
import { patroniDcsSection, patroniSettings } from "../../renderers/patroni";
import { renderRedisConf } from "../../renderers/redis";
import { redisCmd } from "./redisCluster";
import { requireBinaries, requireRoot, run, scratchDir, startDaemon, stopAll, waitFor } from "./support";

const HOST = "127.0.0.1";
const PORTS = { postgres: 27410, haproxy: 27411, stats: 27412, redis: 27413 } as const;
const PG_BIN = "/usr/lib/postgresql/15/bin";
/**
 * The sessions' pg_sleep, and how long the test waits for their sockets. A fixed sleep before one `ss` read raced a
 * slow start (runuser, psql, HAProxy's accept): on a loaded machine a process start takes seconds.
 */
const SESSION_S = 8;
const LEGS_TIMEOUT_MS = 7_000;

/** Seconds left on every keepalive timer `ss -tno` shows for connections touching `port`. */
function keepaliveTimers(port: number): number[] {
    const r = run("ss", ["-tnoH", "state", "established", `( sport = :${port} or dport = :${port} )`]);
    return [...r.stdout.matchAll(/timer:\(keepalive,(?:(\d+)min)?(?:(\d+)(?:\.\d+)?sec|(\d+)ms)?/g)].map((m) => Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0));
}

/** Runs psql over TCP with `conninfo` for `seconds` (a pg_sleep), in the background; resolves with its output. */
function psqlSleeping(conninfo: string, seconds: number): Promise<string> {
    return new Promise((resolve, reject) => {
        const p = spawn("runuser", ["-u", "postgres", "--", "psql", "-XAtq", conninfo, "-c", `SELECT pg_sleep(${seconds})`, "-c", "SHOW tcp_keepalives_idle", "-c", "SHOW tcp_keepalives_interval", "-c", "SHOW tcp_keepalives_count"]);
        let out = "";
        p.stdout.on("data", (c: Buffer) => (out += c.toString()));
        p.stderr.on("data", (c: Buffer) => (out += c.toString()));
        p.on("error", reject);
        p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`psql exited ${code}: ${out}`))));
    });
}

describe("keepalives below the Swarm VIP idle timeout, applied by the real daemons", () => {
    let dir = "";
    const params = patroniDcsSection(patroniSettings()) as { postgresql: { parameters: Record<string, string | number> } };

    before(async () => {
        requireRoot("Postgres runs as the postgres user via runuser");
        requireBinaries({ haproxy: "haproxy", "redis-server": "redis-server", psql: "postgresql-client", ss: "iproute2" });
        if (!fs.existsSync(path.join(PG_BIN, "postgres"))) throw new Error(`missing ${PG_BIN}/postgres: apt-get install -y postgresql-15`);
        dir = scratchDir("keepalives", "postgres");
        const data = path.join(dir, "pgdata");
        run(path.join(PG_BIN, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], { user: "postgres" });
        // Every tcp_* parameter the Patroni members bootstrap with (bootstrap.dcs), as Patroni passes them: -c k=v.
        const tcp = Object.entries(params.postgresql.parameters).filter(([k]) => k.startsWith("tcp_keepalives_"));
        assert.equal(tcp.length, 3, "tcp_keepalives_idle/interval/count are rendered");
        startDaemon("postgres", path.join(PG_BIN, "postgres"), ["-D", data, "-c", `port=${PORTS.postgres}`, "-c", `listen_addresses=${HOST}`, "-c", `unix_socket_directories=${dir}`, ...tcp.flatMap(([k, v]) => ["-c", `${k}=${v}`])], path.join(dir, "postgres.log"), { user: "postgres" });
        await waitFor("postgres accepts TCP connections", async () => run(path.join(PG_BIN, "pg_isready"), ["-h", HOST, "-p", String(PORTS.postgres)], { allowFail: true }).code === 0, { timeoutMs: 30_000, intervalMs: 200 });
    });

    after(async () => {
        await stopAll();
    });

    it("haproxy -c accepts the production config, and the real HAProxy sets the rendered keepalive on both of its sockets", async () => {
        const prod = path.join(dir, "haproxy-prod.cfg");
        fs.writeFileSync(prod, renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, dnsResolver: HAPROXY_DEFAULTS.dnsResolver }));
        const check = run("haproxy", ["-c", "-f", prod], { allowFail: true });
        assert.equal(check.code, 0, `haproxy -c: ${check.stdout}${check.stderr}`);

        // The same renderer in front of the real Postgres (Patroni's REST API is not running: no health check).
        const cfgText = renderHaproxyCfg({ bindAddress: HOST, primaryPort: PORTS.haproxy, replicaPort: PORTS.haproxy + 100, statsPort: PORTS.stats, servers: [{ name: "pg", host: HOST, port: PORTS.postgres, apiPort: PORTS.postgres }] })
            .replace(/ check port \d+/g, "");
        const cfg = path.join(dir, "haproxy.cfg");
        fs.writeFileSync(cfg, cfgText);
        startDaemon("haproxy", "haproxy", ["-db", "-f", cfg], path.join(dir, "haproxy.log"));
        await waitFor("haproxy listens", async () => run("ss", ["-tlnH", `( sport = :${PORTS.haproxy} )`]).stdout.includes(String(PORTS.haproxy)), { timeoutMs: 10_000, intervalMs: 100 });
        // A client without keepalives of its own: only HAProxy's clitcpka can show on the client leg.
        const session = psqlSleeping(`host=${HOST} port=${PORTS.haproxy} user=postgres dbname=postgres keepalives=0`, SESSION_S);
        const { client, server } = await waitFor("both legs of the session are established", async () => {
            const legs = { client: keepaliveTimers(PORTS.haproxy), server: keepaliveTimers(PORTS.postgres) };
            return legs.client.length >= 1 && legs.server.length >= 2 ? legs : undefined;
        }, { timeoutMs: LEGS_TIMEOUT_MS, intervalMs: 100 });
        await session;
        // Client leg: HAProxy's accepted socket (clitcpka). Server leg: HAProxy's socket (srvtcpka) and Postgres's own (tcp_keepalives_idle).
        assert.equal(client.length, 1, `one keepalive timer on the client leg (HAProxy's socket; psql has keepalives=0): ${client}`);
        assert.equal(server.length, 2, `keepalive timers on both ends of the server leg (HAProxy and Postgres): ${server}`);
        for (const s of [...client, ...server]) assert.ok(s > 0 && s <= TCP_KEEPALIVE.idleSeconds && s < SWARM_VIP_IDLE_TIMEOUT_SECONDS, `timer ${s} s <= ${TCP_KEEPALIVE.idleSeconds} s`);
    });

    it("Postgres reports the rendered tcp_keepalives_* on a TCP session, and libpq applies the backend's DATABASE_CONNECT_OPTIONS", async () => {
        const session = psqlSleeping(`host=${HOST} port=${PORTS.postgres} user=postgres dbname=postgres ${libpqKeepaliveOptions()}`, SESSION_S);
        const timers = await waitFor("both ends of the session are established", async () => {
            const t = keepaliveTimers(PORTS.postgres);
            return t.length >= 2 ? t : undefined;
        }, { timeoutMs: LEGS_TIMEOUT_MS, intervalMs: 100 });
        const out = (await session).trim().split("\n").filter(Boolean);
        assert.deepEqual(out.slice(-3), [String(TCP_KEEPALIVE.idleSeconds), String(TCP_KEEPALIVE.intervalSeconds), String(TCP_KEEPALIVE.count)], "SHOW tcp_keepalives_idle/interval/count over TCP");
        assert.equal(timers.length, 2, `a keepalive timer on the client (libpq) and the server socket: ${timers}`);
        for (const s of timers) assert.ok(s > 0 && s <= TCP_KEEPALIVE.idleSeconds, `timer ${s} s <= ${TCP_KEEPALIVE.idleSeconds} s (kernel default: 7200 s)`);
    });

    it("Redis reports the rendered tcp-keepalive", async () => {
        const rdir = path.join(dir, "redis");
        fs.mkdirSync(rdir);
        const password = randomBytes(16).toString("hex");
        const conf = path.join(rdir, "redis.conf");
        fs.writeFileSync(conf, renderRedisConf({ name: "ka", region: "primary", port: PORTS.redis, bind: HOST, announceHost: HOST, dataDir: rdir }) + `\nrequirepass ${password}\n`);
        startDaemon("redis", "redis-server", [conf], path.join(rdir, "redis.log"));
        await waitFor("redis answers", async () => (await redisCmd(PORTS.redis, password, ["PING"]).catch(() => "")) === "PONG", { timeoutMs: 10_000, intervalMs: 100 });
        assert.deepEqual(await redisCmd(PORTS.redis, password, ["CONFIG", "GET", "tcp-keepalive"]), ["tcp-keepalive", String(TCP_KEEPALIVE.idleSeconds)]);
    });
});
