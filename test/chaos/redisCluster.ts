/**
 * Redis + Sentinel chaos scenario, shared by test/chaos/redis.test.ts and bench/cases/redis.ts.
 *
 * Starts, on 127.0.0.1 ports 26101-26104 and 26201-26203, a master, two replicas, the standby region's
 * priority-0 replica and three sentinels, each through the *rendered* start script and config
 * (renderers/redis). Only hosts, ports, bind and paths are remapped to loopback and a scratch dir.
 * A Sentinel-aware writer (tiny RESP client over `net`, no npm client) writes while the master is killed.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { FenceSource, renderFenceSync } from "../../renderers/fence";
import { REDIS_DEFAULTS, renderRedisConf, renderRedisStart, renderSentinelConf, renderSentinelStart } from "../../renderers/redis";
import { Daemon, requireBinaries, scratchDir, signalDaemon, sleep, startDaemon, stopDaemon, waitFor } from "./support";

const HOST = "127.0.0.1";
const MASTER = REDIS_DEFAULTS.masterName;

// ---------------------------------------------------------------- minimal RESP2 client

/** An error reply (`-ERR ...`) from Redis. */
export class RespError extends Error {}
export type Resp = string | number | null | RespError | Resp[];

function parse(b: Buffer, at: number): { v: Resp; next: number } | undefined {
    const eol = b.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const line = b.toString("utf8", at + 1, eol);
    const next = eol + 2;
    switch (String.fromCharCode(b[at])) {
        case "+": return { v: line, next };
        case "-": return { v: new RespError(line), next };
        case ":": return { v: Number(line), next };
        case "$": {
            const n = Number(line);
            if (n < 0) return { v: null, next };
            if (b.length < next + n + 2) return undefined;
            return { v: b.toString("utf8", next, next + n), next: next + n + 2 };
        }
        case "*": {
            const n = Number(line);
            if (n < 0) return { v: null, next };
            const out: Resp[] = [];
            let p = next;
            for (let i = 0; i < n; i++) {
                const r = parse(b, p);
                if (!r) return undefined;
                out.push(r.v);
                p = r.next;
            }
            return { v: out, next: p };
        }
        default: throw new Error(`bad RESP type byte ${b[at]}`);
    }
}

/** One connection; commands are answered in order. Error replies reject with {@link RespError}. */
export class RespConn {
    private buf = Buffer.alloc(0);
    private readonly pending: { ok: (v: Resp) => void; ko: (e: Error) => void }[] = [];

    private constructor(private readonly sock: net.Socket) {
        sock.on("data", (d) => {
            this.buf = Buffer.concat([this.buf, d]);
            while (this.buf.length > 0) {
                let r: ReturnType<typeof parse>;
                try {
                    r = parse(this.buf, 0);
                } catch (e) {
                    sock.destroy(e as Error);
                    return;
                }
                if (!r) return;
                this.buf = this.buf.subarray(r.next);
                const p = this.pending.shift();
                if (p) (r.v instanceof RespError ? p.ko(r.v) : p.ok(r.v));
            }
        });
        const fail = (e: Error) => this.pending.splice(0).forEach((p) => p.ko(e));
        sock.on("error", fail);
        sock.on("close", () => fail(new Error("connection closed")));
    }

    static connect(port: number, timeoutMs = 1_000): Promise<RespConn> {
        return new Promise((resolve, reject) => {
            const s = net.createConnection({ host: HOST, port });
            const t = setTimeout(() => { s.destroy(); reject(new Error(`connect ${port}: timeout`)); }, timeoutMs);
            s.once("error", (e) => { clearTimeout(t); reject(e); });
            s.once("connect", () => { clearTimeout(t); s.setNoDelay(true); resolve(new RespConn(s)); });
        });
    }

    command(args: (string | number)[], timeoutMs = 2_000): Promise<Resp> {
        return new Promise((resolve, reject) => {
            const t = setTimeout(() => { this.sock.destroy(); reject(new Error(`${args[0]}: timeout`)); }, timeoutMs);
            this.pending.push({ ok: (v) => { clearTimeout(t); resolve(v); }, ko: (e) => { clearTimeout(t); reject(e); } });
            const parts = args.map(String);
            this.sock.write(`*${parts.length}\r\n` + parts.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(""));
        });
    }

    close(): void {
        this.sock.destroy();
    }
}

/** Runs one command on a fresh connection (AUTH first when `password` is given). */
export async function redisCmd(port: number, password: string | undefined, args: (string | number)[]): Promise<Resp> {
    const c = await RespConn.connect(port);
    try {
        if (password !== undefined) await c.command(["AUTH", password]);
        return await c.command(args);
    } finally {
        c.close();
    }
}

// ---------------------------------------------------------------- the cluster

export interface RedisNode {
    readonly name: string;
    readonly port: number;
    /** The standby region's replica (replica-priority 0). */
    readonly standby: boolean;
    /** Rendered config (the "Swarm config", read-only) and start script, and the writable copy. */
    readonly source: string;
    readonly script: string;
    readonly conf: string;
    /** The running daemon (set by `restart`, which also starts it the first time). */
    daemon?: Daemon;
}

export interface RedisCluster {
    readonly root: string;
    readonly password: string;
    readonly passwordFile: string;
    readonly nodes: RedisNode[];
    readonly sentinels: RedisNode[];
    /** Starts the node again through the same rendered start script (same paths, so learned state is kept). */
    restart(n: RedisNode): void;
    /**
     * With `fence`: the primary region's fence sync (renderers/fence.ts `renderFenceSync`, run as rendered), its
     * script and the fence directory its gates read. Start it again with {@link restart}.
     */
    readonly fenceSync?: RedisNode & { readonly dir: string };
    /** Stops every daemon of this cluster, by PID. */
    stop(): Promise<void>;
}

export const REDIS_CHAOS_PORTS = { nodes: [26101, 26102, 26103], standby: 26104, sentinels: [26201, 26202, 26203] } as const;

function writeFile(file: string, text: string, mode: number): string {
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
    return file;
}

/** The region fence of the primary region (as components/redis.ts renders it when the stack has a fence). */
export interface RedisFenceOptions {
    /** The primary region's name (the gate's `region`). */
    readonly region: string;
    /** Stand-ins of both regions' WAL buckets (local directories), copied by the fence sync. */
    readonly sources: readonly FenceSource[];
}

/**
 * Starts master, 2 replicas, the priority-0 standby replica and 3 sentinels from the rendered files. With `fence`, the
 * primary region's nodes and sentinels start through the fence gate, and its fence sync runs first.
 */
export async function startRedisCluster(opts: { fence?: RedisFenceOptions } = {}): Promise<RedisCluster> {
    requireBinaries({ "redis-server": "redis-server", "redis-sentinel": "redis-sentinel", "redis-cli": "redis-tools", awk: "mawk" });
    const root = scratchDir("redis");
    const password = randomBytes(24).toString("hex");
    const passwordFile = writeFile(path.join(root, "redis_password"), password + "\n", 0o400);
    const masterPort = REDIS_CHAOS_PORTS.nodes[0];
    const fenceDir = path.join(root, "fence");
    // The gate a primary-region node or sentinel runs (none for the standby region's replica: rendered as a standby).
    const gate = (standby: boolean) => (opts.fence ? { fence: { region: opts.fence.region, role: standby ? "standby" as const : "primary" as const, dir: fenceDir } } : {});
    const sentinelAddrs = REDIS_CHAOS_PORTS.sentinels.map((port) => ({ host: HOST, port }));
    const make = (name: string, port: number, standby: boolean, conf: (dir: string) => string, sentinel: boolean): RedisNode => {
        const dir = path.join(root, name);
        fs.mkdirSync(dir);
        const source = writeFile(path.join(root, `${name}.conf`), conf(dir), 0o444);
        const copy = path.join(dir, sentinel ? "sentinel.conf" : "redis.conf");
        const startInput = { configSource: source, configPath: copy, passwordFile };
        // As components/redis.ts: a primary-region node asks every sentinel, a sentinel asks the other sentinels;
        // the standby region has no sentinels.
        const script = writeFile(
            path.join(root, `${name}-start.sh`),
            sentinel
                ? renderSentinelStart({ ...startInput, sentinels: sentinelAddrs.filter((s) => s.port !== port), ...gate(false) })
                : renderRedisStart({ ...startInput, self: { host: HOST, port }, sentinels: standby ? [] : sentinelAddrs, ...gate(standby) }),
            0o555,
        );
        return { name, port, standby, source, script, conf: copy };
    };
    const nodes = REDIS_CHAOS_PORTS.nodes.map((port, i) =>
        make(`redis-${i + 1}`, port, false, (dir) => renderRedisConf({
            name: `redis-${i + 1}`, region: "primary", port, bind: HOST, announceHost: HOST, dataDir: dir,
            replicaOf: i === 0 ? undefined : { host: HOST, port: masterPort },
        }), false));
    nodes.push(make("redis-standby", REDIS_CHAOS_PORTS.standby, true, (dir) => renderRedisConf({
        name: "redis-standby", region: "standby", port: REDIS_CHAOS_PORTS.standby, bind: HOST, announceHost: HOST, dataDir: dir,
        replicaOf: { host: HOST, port: masterPort },
    }), false));
    const sentinels = REDIS_CHAOS_PORTS.sentinels.map((port, i) =>
        make(`sentinel-${i + 1}`, port, false, (dir) => renderSentinelConf({
            name: `sentinel-${i + 1}`, master: { host: HOST, port: masterPort }, port, bind: HOST, announceHost: HOST, dataDir: dir,
        }), true));
    const restart = (n: RedisNode) => {
        n.daemon = startDaemon(n.name, "sh", [n.script], path.join(root, `${n.name}.log`));
    };
    const fenceSync: (RedisNode & { readonly dir: string }) | undefined = opts.fence
        ? { name: "fence-sync", port: 0, standby: false, source: "", conf: "", dir: fenceDir,
            script: writeFile(path.join(root, "fence-sync.sh"), renderFenceSync({ sources: opts.fence.sources, dir: fenceDir, intervalS: 1 }), 0o555) }
        : undefined;
    const c: RedisCluster = {
        root, password, passwordFile, nodes, sentinels, restart, fenceSync,
        stop: async () => {
            for (const n of [...nodes, ...sentinels, ...(fenceSync ? [fenceSync] : [])].reverse()) if (n.daemon) await stopDaemon(n.daemon);
        },
    };
    if (fenceSync) restart(fenceSync);
    for (const n of nodes) restart(n);
    try {
        // Sentinels start once the replicas are attached, so their first INFO of the master lists all of them
        // (otherwise the missing ones only appear at the next INFO, 10 s later).
        await waitReplicating(c, nodes[0].port);
    } finally {
        for (const n of sentinels) restart(n);
    }
    return c;
}

/** ROLE of a node: role name, and for a replica its master port and link state. */
export async function role(c: RedisCluster, port: number): Promise<{ role: string; masterPort?: number; link?: string }> {
    const r = (await redisCmd(port, c.password, ["ROLE"])) as Resp[];
    return r[0] === "slave" ? { role: "slave", masterPort: Number(r[2]), link: String(r[3]) } : { role: String(r[0]) };
}

/** `SENTINEL master` as a field map. */
export async function sentinelMaster(port: number): Promise<Record<string, string>> {
    const r = (await redisCmd(port, undefined, ["SENTINEL", "MASTER", MASTER])) as string[];
    const m: Record<string, string> = {};
    for (let i = 0; i + 1 < r.length; i += 2) m[r[i]] = r[i + 1];
    return m;
}

/** Master port as one sentinel reports it. */
export async function sentinelMasterPort(port: number): Promise<number> {
    const r = (await redisCmd(port, undefined, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER])) as string[];
    return Number(r[1]);
}

/** Waits until every node but `masterPort` answers as a replica of it with the link up. */
export async function waitReplicating(c: RedisCluster, masterPort: number, timeoutMs = 15_000): Promise<void> {
    for (const n of c.nodes.filter((x) => x.port !== masterPort)) {
        await waitFor(`${n.name} replicating from :${masterPort}`, async () => {
            const r = await role(c, n.port);
            return r.role === "slave" && r.masterPort === masterPort && r.link === "connected";
        }, { timeoutMs, intervalMs: 100 });
    }
}

/** Waits until every sentinel sees the master, all its replicas and the other sentinels. */
export async function waitRedisReady(c: RedisCluster): Promise<void> {
    const masterPort = c.nodes[0].port;
    const replicas = String(c.nodes.length - 1);
    const others = String(c.sentinels.length - 1);
    for (const s of c.sentinels) {
        await waitFor(`${s.name} seeing ${replicas} replicas and ${others} other sentinels`, async () => {
            const m = await sentinelMaster(s.port);
            return Number(m["port"]) === masterPort && m["num-slaves"] === replicas && m["num-other-sentinels"] === others && m["flags"] === "master";
        }, { timeoutMs: 25_000, intervalMs: 200 });
    }
}

/** One acknowledged write: its sequence number, the port that acknowledged it, and when (performance.now()). */
export interface Ack { readonly seq: number; readonly port: number; readonly at: number }

/**
 * A Sentinel-aware client writing `SET w:<seq> <seq>` one at a time: it asks the sentinels for the master,
 * checks ROLE is master, and on any error (connection lost, NOREPLICAS, READONLY) asks the sentinels again.
 */
export class SentinelWriter {
    readonly acks: Ack[] = [];
    private seq = 0;
    private stopped = false;
    private done: Promise<void> = Promise.resolve();

    constructor(private readonly c: RedisCluster, private readonly pauseMs = 5) {}

    private async discover(): Promise<{ conn: RespConn; port: number } | undefined> {
        for (const s of this.c.sentinels) {
            let conn: RespConn | undefined;
            try {
                const port = await sentinelMasterPort(s.port);
                conn = await RespConn.connect(port, 500);
                await conn.command(["AUTH", this.c.password], 500);
                const r = (await conn.command(["ROLE"], 500)) as Resp[];
                if (r[0] === "master") return { conn, port };
            } catch {
                // this sentinel is down or still names the dead master: ask the next one
            }
            conn?.close();
        }
        return undefined;
    }

    /** Starts writing until {@link stop} or `maxMs`. */
    start(maxMs = 120_000): void {
        const deadline = Date.now() + maxMs;
        this.done = (async () => {
            let cur: { conn: RespConn; port: number } | undefined;
            while (!this.stopped && Date.now() < deadline) {
                if (!cur) cur = await this.discover();
                if (!cur) { await sleep(50); continue; }
                const seq = this.seq++;
                try {
                    if ((await cur.conn.command(["SET", `w:${seq}`, seq], 1_000)) === "OK") {
                        this.acks.push({ seq, port: cur.port, at: performance.now() });
                    }
                    await sleep(this.pauseMs);
                } catch {
                    cur.conn.close();
                    cur = undefined;
                    await sleep(50);
                }
            }
            cur?.conn.close();
        })();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        await this.done;
    }

    /** First write acknowledged at or after `t` by a port other than `oldPort`. */
    firstAckElsewhere(t: number, oldPort: number): Ack | undefined {
        return this.acks.find((a) => a.at >= t && a.port !== oldPort);
    }
}

/** Acknowledged writes missing on `port` (checked with MGET in chunks). */
export async function findLost(c: RedisCluster, port: number, acks: readonly Ack[]): Promise<Ack[]> {
    const conn = await RespConn.connect(port);
    const lost: Ack[] = [];
    try {
        await conn.command(["AUTH", c.password]);
        for (let i = 0; i < acks.length; i += 500) {
            const chunk = acks.slice(i, i + 500);
            const vals = (await conn.command(["MGET", ...chunk.map((a) => `w:${a.seq}`)], 5_000)) as (string | null)[];
            vals.forEach((v, j) => { if (v !== String(chunk[j].seq)) lost.push(chunk[j]); });
        }
    } finally {
        conn.close();
    }
    return lost;
}

export interface RedisFailover {
    /** Seconds from the kill -9 of the master to the first write acknowledged by the new master. */
    readonly seconds: number;
    readonly oldMasterPort: number;
    readonly newMasterPort: number;
    readonly acknowledged: number;
    readonly lost: number;
    /** Of those lost, how many were acknowledged more than 1 s before the kill (replication should have them). */
    readonly lostOlderThan1s: number;
}

/** With the cluster ready: write, kill -9 the master, wait for the first write on a new master, count losses. */
export async function killMasterAndMeasure(c: RedisCluster): Promise<RedisFailover> {
    const old = c.nodes[0];
    const w = new SentinelWriter(c);
    w.start();
    try {
        await waitFor("writes on the initial master", () => w.acks.length >= 100, { timeoutMs: 10_000 });
        const tKill = performance.now();
        signalDaemon(old.daemon!, "SIGKILL");
        const first = await waitFor("a write acknowledged by a new master", () => w.firstAckElsewhere(tKill, old.port), { timeoutMs: 45_000, intervalMs: 50 });
        await waitFor("more writes on the new master", () => w.acks.length - w.acks.indexOf(first) >= 50, { timeoutMs: 10_000 });
        await w.stop();
        const lost = await findLost(c, first.port, w.acks);
        return {
            seconds: (first.at - tKill) / 1000, oldMasterPort: old.port, newMasterPort: first.port, acknowledged: w.acks.length,
            lost: lost.length, lostOlderThan1s: lost.filter((a) => a.at < tKill - 1_000).length,
        };
    } finally {
        await w.stop();
    }
}
