/**
 * Two regions of Postgres on this machine, for the region_promotion bench case and its chaos test (issue 10).
 *
 * - Primary region: PatroniCluster (its own etcd x3, two Patroni members, HAProxy on 127.0.0.1:25000, the
 *   "leader router" every primary data host publishes).
 * - Standby region: its own etcd (one member: a separate DCS, as in its own region), one Patroni member rendered by
 *   `renderPatroniYaml` with `standby` streaming from the primary's leader router, exactly as the standby stack
 *   configures it (components/postgres.ts: `standby_cluster.host` = the primary's data hosts, port 5000), and its
 *   own router: HAProxy rendered with the leader check the program gives a standby region's router
 *   (`leaderCheckPathFor("standby")`). Writes in the standby region go through that router, as the backend's do.
 *
 * The promotion is the one `npm run promote` sends: `GET /config`, the body from `promotionPatch(live, deployed)`
 * (deployed = the member's rendered `bootstrap.dcs`, read with `bootstrapDcs` as the script reads it from
 * SPILO_CONFIGURATION), `PATCH /config`. Only the transport differs: here plain HTTP to the member's REST API, in
 * production `curl` inside the member's container over the Docker provider's SSH path.
 *
 * The region fence (renderers/fence.ts): local directories stand in for both regions' WAL buckets
 * (test/chaos/fenceStandIn.ts); the primary region runs its fence sync (`renderFenceSync`, as rendered) from the start,
 * dies with the region, and the promotion records the fence into the standby region's bucket only (the old region is
 * dead). The old region's members restart through the fence gate Spilo's entrypoint runs (`fenceGateLines`, the lines
 * `renderSpiloEntrypoint` puts before Spilo's launch; here before Patroni). Their first start, before any promotion,
 * does not go through it (PatroniCluster is shared with the other scenarios); with no record the gate lets them start
 * (test/renderers.fence.test.ts runs the gate with sh).
 *
 * Ports: the primary's (patroniCluster.ts PORTS) and 25421-25462 on 127.0.0.1, all shifted by OCHAOS_PG_PORT_OFFSET.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { parse } from "yaml";
import { fenceGateLines, renderFenceSync } from "../../renderers/fence";
import { leaderCheckPathFor, renderHaproxyCfg } from "../../renderers/haproxy";
import { PATRONI_DEFAULTS, renderPatroniYaml, spiloMemberName } from "../../renderers/patroni";
import { bootstrapDcs, JsonObject, promotionPatch } from "../../renderers/patroniConfigPatch";
import { Daemon, run, signalDaemon, sleep, startDaemon, stopDaemon, waitExit, waitFor } from "./support";
import { FenceBuckets, fenceBuckets, fencedLines, recordFence } from "./fenceStandIn";
import { httpJson, httpStatus, PG_BIN, PORTS, PRIMARY_REGION, PatroniCluster, PgMember, postmasterPid, childPids, shiftPort, startPatroni, stopPatroni } from "./patroniCluster";

const HOST = "127.0.0.1";
export const STANDBY_PORTS = {
    etcdClient: shiftPort(25421), etcdPeer: shiftPort(25431), pg: shiftPort(25441), api: shiftPort(25451),
    haPrimary: shiftPort(25460), haReplica: shiftPort(25461), haStats: shiftPort(25462),
} as const;
/** Ids the standby region's writer uses (the primary's writer counts up from 1). */
const STANDBY_IDS = 1_000_000_000;
const STANDBY_REGION = "us-west-2";

/** What was measured just before the primary region was killed. */
export interface LagAtKill {
    /** Bytes of WAL the primary's leader had written that the standby had not replayed. */
    readonly bytes: number;
    /** Patroni-independent replay lag reported by the leader (pg_stat_replication.replay_lag), seconds. */
    readonly seconds: number;
    /** The highest acknowledged id the standby had replayed at that moment. */
    readonly standbyMaxId: number;
    /** ms epoch of the probe. */
    readonly t: number;
}

/** The outcome of the old primary region restarted as it was. */
export interface OldRegionRestart {
    /** Writes the restarted old region acknowledged (through its router or on any member), over the probe window. */
    readonly writesAccepted: number;
    readonly attempts: number;
    /** Patroni roles of the old members at the end of the window (GET /patroni). */
    readonly roles: string[];
    /** The promoted standby still a writable primary at the end of the window. */
    readonly promotedStillPrimary: boolean;
    /** Per old member, the lines of its log in which its start gate said it is fenced. */
    readonly fenced: string[][];
}

/** PATCH http://127.0.0.1:port/path with a JSON body; resolves the status code. */
function httpPatch(port: number, urlPath: string, body: JsonObject): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: HOST, port, path: urlPath, method: "PATCH", headers: { "Content-Type": "application/json" }, timeout: 5000 }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end(JSON.stringify(body));
    });
}

export class RegionPair {
    readonly standby: PgMember;
    private standbyEtcd?: Daemon;
    private standbyRouter?: Daemon;
    private readonly standbyDir: string;
    /** Stand-ins of both regions' WAL buckets (the fence records). */
    readonly buckets: FenceBuckets;
    /** The primary region's fence volume, its sync script and daemon, and its members' start gate. */
    private readonly fenceDir: string;
    private readonly fenceSyncScript: string;
    private readonly gateScript: string;
    private fenceSync?: Daemon;

    private constructor(readonly primary: PatroniCluster) {
        this.standbyDir = path.join(primary.dir, "standby-region");
        this.buckets = fenceBuckets(path.join(primary.dir, "fence-buckets"), PRIMARY_REGION, STANDBY_REGION);
        this.fenceDir = path.join(primary.dir, "fence");
        this.fenceSyncScript = path.join(primary.dir, "fence-sync.sh");
        fs.writeFileSync(this.fenceSyncScript, renderFenceSync({ sources: this.buckets.sources, dir: this.fenceDir, intervalS: 1 }), { mode: 0o555 });
        // What Spilo's entrypoint runs first (renderSpiloEntrypoint with `fence`), then the member's Patroni.
        this.gateScript = path.join(primary.dir, "spilo-gate.sh");
        fs.writeFileSync(this.gateScript, ["#!/bin/sh", "set -eu", "prog=spilo-entrypoint", ...fenceGateLines({ region: PRIMARY_REGION, role: "primary", dir: this.fenceDir }), 'exec "$@"', ""].join("\n"), { mode: 0o555 });
        const name = spiloMemberName(STANDBY_REGION, 1);
        this.standby = { name, pgPort: STANDBY_PORTS.pg, apiPort: STANDBY_PORTS.api, dataDir: path.join(this.standbyDir, name, "data"), configFile: path.join(this.standbyDir, `${name}.yml`) };
    }

    /** Both regions up, the standby leader streaming from the primary's router, both routers routing. */
    static async start(): Promise<RegionPair> {
        const c = await PatroniCluster.start();
        const r = new RegionPair(c);
        try {
            r.startFenceSync();
            await r.startStandbyRegion();
        } catch (e) {
            await r.stop();
            throw e;
        }
        return r;
    }

    /** The primary region's fence sync (a service on every data host in production; one here). */
    private startFenceSync(): void {
        this.fenceSync = startDaemon("fence-sync", "sh", [this.fenceSyncScript], path.join(this.primary.dir, "fence-sync.log"));
    }

    private async startStandbyRegion(): Promise<void> {
        const c = this.primary;
        const dir = this.standbyDir;
        fs.mkdirSync(path.dirname(this.standby.dataDir), { recursive: true, mode: 0o700 });
        fs.mkdirSync(path.join(dir, "archive"));
        run("chown", ["-R", "postgres:postgres", dir]);
        const client = `http://${HOST}:${STANDBY_PORTS.etcdClient}`;
        const peer = `http://${HOST}:${STANDBY_PORTS.etcdPeer}`;
        this.standbyEtcd = startDaemon("etcd-standby", "etcd", [
            "--name", "w1", "--data-dir", path.join(dir, "etcd-w1"), "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `w1=${peer}`, "--initial-cluster-state", "new",
        ], path.join(dir, "etcd-w1.log"));
        await waitFor("the standby region's etcd", () => run("etcdctl", ["--endpoints", client, "endpoint", "health"], { env: { ETCDCTL_API: "3" }, allowFail: true, timeoutMs: 5000 }).code === 0, { timeoutMs: 30_000, intervalMs: 250 });
        const m = this.standby;
        const yml = renderPatroniYaml({
            scope: PATRONI_DEFAULTS.scope,
            namespace: `${c.namespace.slice(0, -1)}-us-west-2/`,
            name: m.name,
            etcdHosts: [`${HOST}:${STANDBY_PORTS.etcdClient}`],
            restApiListen: `${HOST}:${m.apiPort}`,
            restApiConnect: `${HOST}:${m.apiPort}`,
            pgListen: `${HOST}:${m.pgPort}`,
            pgConnect: `${HOST}:${m.pgPort}`,
            dataDir: m.dataDir,
            binDir: PG_BIN,
            socketDir: path.dirname(m.dataDir),
            pgpassFile: path.join(path.dirname(m.dataDir), "pgpass"),
            archiveCommand: `cp %p ${dir}/archive/%f`,
            clientCidrs: ["127.0.0.0/8"],
            settings: c.settings,
            // The primary's leader router (every primary data host publishes HAProxy's leader port 5000).
            standby: { host: HOST, port: PORTS.haPrimary, createReplicaMethods: ["basebackup"] },
        });
        fs.writeFileSync(m.configFile, yml, { mode: 0o644 });
        m.daemon = startPatroni(m.name, m.configFile, path.join(dir, `${m.name}.log`), dir, { PATRONI_SUPERUSER_PASSWORD: c.password, PATRONI_REPLICATION_PASSWORD: c.password });
        await waitFor("the standby leader", async () => (await httpStatus(m.apiPort, "/standby-leader")) === 200, { timeoutMs: 120_000, intervalMs: 500 });
        const routerCfg = path.join(dir, "haproxy.cfg");
        fs.writeFileSync(routerCfg, renderHaproxyCfg({
            servers: [{ name: m.name, host: HOST, port: m.pgPort, apiPort: m.apiPort }],
            bindAddress: HOST,
            primaryPort: STANDBY_PORTS.haPrimary,
            replicaPort: STANDBY_PORTS.haReplica,
            statsPort: STANDBY_PORTS.haStats,
            leaderCheckPath: leaderCheckPathFor("standby"),
        }));
        run("haproxy", ["-c", "-q", "-f", routerCfg]);
        this.standbyRouter = startDaemon("haproxy-standby", "haproxy", ["-db", "-f", routerCfg], path.join(dir, "haproxy.log"));
        await waitFor("the standby's router to reach the standby leader", async () => (await this.standbySql("SELECT pg_is_in_recovery()", STANDBY_PORTS.haPrimary)).stdout.trim() === "t", { timeoutMs: 30_000, intervalMs: 250 });
    }

    /** One statement on the standby region: through its router (default) or on the member's own port. */
    standbySql(statement: string, port: number = STANDBY_PORTS.haPrimary, timeoutMs = 3000) {
        return this.primary.sqlAs(port, PATRONI_DEFAULTS.superuserName, this.primary.password, "postgres", statement, timeoutMs);
    }

    /** Waits until the standby has replayed the primary's acknowledged write `id`. */
    async waitReplayed(id: number, timeoutMs = 30_000): Promise<void> {
        await waitFor(`row ${id} on the standby`, async () => (await this.standbySql(`SELECT count(*) FROM acked WHERE id = ${id}`, STANDBY_PORTS.pg)).stdout.trim() === "1", { timeoutMs, intervalMs: 200 });
    }

    /** Replication lag of the standby region, read on the primary's leader and the standby at the same moment. */
    async lag(): Promise<LagAtKill> {
        const leader = await waitFor("the primary's leader", () => this.primary.leader(), { timeoutMs: 10_000, intervalMs: 100 });
        const t = Date.now();
        const [onLeader, onStandby] = await Promise.all([
            this.primary.sql(leader.pgPort, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, COALESCE(EXTRACT(epoch FROM replay_lag), 0) FROM pg_stat_replication WHERE application_name = '${this.standby.name}'`, 3000),
            this.standbySql(`SELECT COALESCE(max(id), 0) FROM acked WHERE id < ${STANDBY_IDS}`, STANDBY_PORTS.pg),
        ]);
        const [bytes, seconds] = onLeader.stdout.trim().split("|").map(Number);
        if (onLeader.code !== 0 || !Number.isFinite(bytes)) throw new Error(`the leader does not stream to ${this.standby.name}: ${onLeader.stdout}${onLeader.stderr}`);
        return { bytes, seconds, standbyMaxId: Number(onStandby.stdout.trim()), t };
    }

    /** The whole primary region dies at once: every etcd, Patroni, postmaster (with children) and HAProxy, SIGKILL. */
    async killPrimaryRegion(): Promise<number> {
        const c = this.primary;
        const t = Date.now();
        for (const m of c.members) c.crashHost(m);
        if (c.haproxy) signalDaemon(c.haproxy, "SIGKILL");
        for (const e of c.etcd) signalDaemon(e, "SIGKILL");
        if (this.fenceSync) signalDaemon(this.fenceSync, "SIGKILL");
        for (const m of c.members) await c.waitDown(m);
        for (const d of [...c.etcd, ...(c.haproxy ? [c.haproxy] : []), ...(this.fenceSync ? [this.fenceSync] : [])]) await waitExit(d, 10_000);
        return t;
    }

    /**
     * The documented promotion, as `npm run promote` does it: GET /config, the body computed by promotionPatch from
     * the deployed bootstrap.dcs, PATCH /config. Returns when the PATCH was answered.
     */
    async promote(): Promise<{ t0: number; body: JsonObject }> {
        const t0 = Date.now();
        const deployed = bootstrapDcs(parse(fs.readFileSync(this.standby.configFile, "utf8")));
        const live = (await httpJson(this.standby.apiPort, "/config")) as JsonObject;
        const body = promotionPatch(live, deployed);
        if (!body) throw new Error(`nothing to PATCH: the live config has no standby_cluster (${JSON.stringify(live)})`);
        const status = await httpPatch(this.standby.apiPort, "/config", body);
        if (status !== 200) throw new Error(`PATCH /config answered ${status}`);
        // Then the fence record, into the promoted region's bucket only: the old region is dead.
        recordFence(this.buckets, STANDBY_REGION, { oldRegionReachable: false });
        return { t0, body };
    }

    /**
     * Writes through the standby region's router until one is acknowledged (its ms epoch), then keeps writing for
     * `steadyMs`: a promoted region must keep taking writes, not just one before its router notices the role change.
     */
    async firstStandbyWrite(timeoutMs = 120_000, steadyMs = 6_000): Promise<{ t: number; attempts: number; failedAfterFirst: number; steadyWrites: number }> {
        let attempts = 0;
        const write = async () => {
            attempts++;
            return (await this.standbySql(`INSERT INTO acked (id) VALUES (${STANDBY_IDS + attempts}) RETURNING id`)).code === 0;
        };
        const t = await waitFor("the first acknowledged write in the standby region", async () => ((await write()) ? Date.now() : undefined), { timeoutMs, intervalMs: 100 });
        let failedAfterFirst = 0;
        let steadyWrites = 0;
        for (let i = 0; i < 1000 && Date.now() < t + steadyMs; i++) {
            if (await write()) steadyWrites++;
            else failedAfterFirst++;
            await sleep(100);
        }
        return { t, attempts, failedAfterFirst, steadyWrites };
    }

    /** The primary's acknowledged writes (ids) missing on the promoted standby. */
    async lostOnPromoted(): Promise<number[]> {
        const acked = this.primary.writes.filter((w) => w.ok).map((w) => w.id);
        if (acked.length === 0) return [];
        const r = await this.standbySql(`SELECT id FROM acked WHERE id < ${STANDBY_IDS}`, STANDBY_PORTS.pg, 10_000);
        if (r.code !== 0) throw new Error(`could not read the promoted standby: ${r.stderr}`);
        const present = new Set(r.stdout.split("\n").filter((x) => x.trim() !== "").map(Number));
        return acked.filter((id) => !present.has(id));
    }

    /**
     * The old primary region comes back as it was (its fence sync, its etcd on its data, its Patroni members on theirs
     * through their start gate, its router), and for `windowMs` every 500 ms we try a write through its router and on
     * each member: how many are acknowledged.
     */
    async restartOldRegion(windowMs: number): Promise<OldRegionRestart> {
        const c = this.primary;
        await c.stopWriter();
        this.startFenceSync();
        await c.startEtcd();
        for (const m of c.members) c.startMember(m, this.gateScript);
        c.restartHaproxy();
        let accepted = 0;
        let attempts = 0;
        const end = Date.now() + windowMs;
        for (let i = 0; i < 1000 && Date.now() < end; i++) {
            for (const port of [PORTS.haPrimary, ...c.members.map((m) => m.pgPort)]) {
                attempts++;
                const r = await c.sql(port, `INSERT INTO acked (id) VALUES (${2_000_000_000 + attempts}) RETURNING id`, 3000);
                if (r.code === 0) accepted++;
            }
            await sleep(500);
        }
        const roles: string[] = [];
        for (const m of c.members) roles.push(`${m.name}: ${((await httpJson(m.apiPort, "/patroni").catch(() => ({}))) as { role?: string; state?: string }).role ?? "unreachable"}`);
        // No record existed before the promotion, so every FENCED line in a member's log is from this restart.
        const fenced = c.members.map((m) => fencedLines(c.logFile(m)));
        return { writesAccepted: accepted, attempts, roles, promotedStillPrimary: (await httpStatus(this.standby.apiPort, "/primary")) === 200, fenced };
    }

    /** Stops both regions, by PID. */
    async stop(): Promise<void> {
        if (this.standby.daemon) await stopPatroni(this.standby.daemon, 20_000);
        for (const d of [this.standbyRouter, this.standbyEtcd, this.fenceSync]) if (d) await stopDaemon(d);
        const pm = postmasterPid(this.standby.dataDir);
        if (pm) for (const pid of [pm, ...childPids(pm)]) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
        await this.primary.stop();
    }
}
