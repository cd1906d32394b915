/**
 * Postgres HA scenario with real daemons on loopback: a 3-member etcd 3.4, two or three Patroni members (Patroni
 * 4.0.7, the line Spilo 4.0 runs, from scripts/setup.d/20-trixie-patroni.sh; OCHAOS_PATRONI=3.0.2 runs
 * Debian 12's instead; with Postgres 15, as the `postgres` user) configured from `renderPatroniYaml` with
 * the production DCS settings and the production post-init (application and monitoring roles), and
 * HAProxy from `renderHaproxyCfg`. Writes go through HAProxy, one psql per INSERT; a write is
 * acknowledged only when psql exited 0 (the COMMIT returned OK).
 *
 * Members are stopped the way the container runtime stops them: SIGTERM to Patroni's own process (not to
 * the `runuser` wrapper's group: runuser answers SIGTERM by killing its child 2 s later, mid-shutdown),
 * SIGKILL only after the service's stop_grace_period.
 *
 * Used by test/chaos/postgres*.test.ts and bench/cases/postgres*.ts. Ports: 25000-25499 on 127.0.0.0/8, shifted by
 * OCHAOS_PG_PORT_OFFSET (an integer from 0 to 9000, default 0) so that two scenarios can run side by side on one machine:
 * this file's PORTS (with the standby region's member of postgresStandby.test.ts), and through {@link shiftPort}
 * regionPair.ts's STANDBY_PORTS, pitrCluster.ts's RESTORE_PORTS and fullSiteDrill.ts's router ports.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { HaproxyInput, renderHaproxyCfg } from "../../renderers/haproxy";
import { PATRONI_DEFAULTS, PatroniMember, PatroniSettings, patroniSettings, renderPatroniYaml, spiloMemberName } from "../../renderers/patroni";
import { postgresRoles, renderPostInitScript, renderRolesSql } from "../../renderers/postgresRoles";
import { Daemon, requireBinaries, requireRoot, run, scratchDir, signalDaemon, sleep, startDaemon, stopAll, waitExit, waitFor } from "./support";

export const PG_BIN = "/usr/lib/postgresql/15/bin";
const HOST = "127.0.0.1";
/** Where scripts/setup.d/20-trixie-patroni.sh extracts Patroni 4.0.7. */
export const PATRONI4_DIR = process.env.PATRONI4_DIR ?? "/opt/opscenter-test/patroni-4.0.7";
/** The Patroni the scenario runs: "4.0.7" (default, what Spilo 4.0 runs) or Debian 12's "3.0.2". */
export const PATRONI_VERSION: "4.0.7" | "3.0.2" = process.env.OCHAOS_PATRONI === "3.0.2" ? "3.0.2" : "4.0.7";
/** The Spilo services' stop_grace_period (components/postgres.ts): SIGKILL only after it. */
export const STOP_GRACE_MS = 60_000;
/** The region the primary cluster's member names carry (as in production: spiloMemberName). */
export const PRIMARY_REGION = "us-east-1";

/**
 * Starts a Patroni daemon as the postgres user, with the chosen Patroni version. With `wrapper`, a start script run as
 * root first (`sh <wrapper> runuser -u postgres -- <patroni>`; it ends with `exec "$@"`), as Spilo's entrypoint runs
 * before Spilo starts Patroni as postgres.
 */
export function startPatroni(name: string, configFile: string, logFile: string, cwd: string, env: NodeJS.ProcessEnv, wrapper?: string): Daemon {
    const cmd = PATRONI_VERSION === "3.0.2" ? ["patroni", configFile] : ["/usr/bin/python3", path.join(PATRONI4_DIR, "usr/bin/patroni"), configFile];
    const fullEnv = PATRONI_VERSION === "3.0.2" ? env : { ...env, PYTHONPATH: path.join(PATRONI4_DIR, "usr/lib/python3/dist-packages") };
    if (wrapper) return startDaemon(`patroni-${name}`, "sh", [wrapper, "runuser", "-u", "postgres", "--", ...cmd], logFile, { cwd, env: fullEnv });
    return startDaemon(`patroni-${name}`, cmd[0], cmd.slice(1), logFile, { user: "postgres", cwd, env: fullEnv });
}

/** Checks that the chosen Patroni is installed, naming the setup step that installs it. */
export function requirePatroni(): void {
    if (PATRONI_VERSION === "4.0.7" && !fs.existsSync(path.join(PATRONI4_DIR, "usr/bin/patroni"))) {
        throw new Error(`missing Patroni 4.0.7 in ${PATRONI4_DIR}: run 'bash scripts/setup.d/20-trixie-patroni.sh' (npm test does)`);
    }
}

/** The Patroni process itself: the descendant of the runuser wrapper whose command line runs patroni. */
export function patroniPid(d: Daemon): number | undefined {
    const queue = [d.pid];
    for (let i = 0; i < 50 && queue.length > 0; i++) {
        const pid = queue.shift()!;
        if (pid !== d.pid) {
            try {
                const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
                if (cmd.some((a) => a.endsWith("/patroni") || a === "patroni")) return pid;
            } catch {
                continue;
            }
        }
        queue.push(...childPids(pid));
    }
    return undefined;
}

/**
 * Stops a Patroni daemon as Docker stops a container: SIGTERM to Patroni, SIGKILL (to the whole group) only
 * if it has not exited after `graceMs`. Resolves once it has exited.
 */
export async function stopPatroni(d: Daemon, graceMs = STOP_GRACE_MS): Promise<void> {
    if (d.exited()) return;
    const pid = patroniPid(d);
    if (pid === undefined) signalDaemon(d, "SIGTERM");
    else process.kill(pid, "SIGTERM");
    if (!(await waitExit(d, graceMs))) {
        signalDaemon(d, "SIGKILL");
        await waitExit(d, 5_000);
    }
}
/** OCHAOS_PG_PORT_OFFSET: added to every port of the Postgres scenarios ({@link shiftPort}). */
export const PORT_OFFSET = ((v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 9000) throw new Error(`OCHAOS_PG_PORT_OFFSET = ${JSON.stringify(v)}: must be an integer from 0 to 9000`);
    return n;
})(process.env.OCHAOS_PG_PORT_OFFSET ?? "0");
/** A Postgres scenario's port (25000-25499) shifted by OCHAOS_PG_PORT_OFFSET: every such port goes through it. */
export const shiftPort = (p: number) => p + PORT_OFFSET;
const at = shiftPort;
export const PORTS = {
    haPrimary: at(25000),
    haReplica: at(25001),
    haStats: at(25002),
    pg: [at(25101), at(25102), at(25103)],
    api: [at(25111), at(25112), at(25113)],
    etcdClient: [at(25201), at(25202), at(25203)],
    etcdPeer: [at(25211), at(25212), at(25213)],
    /** The standby region's member of test/chaos/postgresStandby.test.ts. */
    standbyPg: at(25121),
    standbyApi: at(25131),
} as const;

/** One Patroni member of the scenario. */
export interface PgMember {
    readonly name: string;
    readonly pgPort: number;
    readonly apiPort: number;
    readonly dataDir: string;
    readonly configFile: string;
    daemon?: Daemon;
}

/** What {@link PatroniCluster.prepareMember} needs to know of a member; the rest is the scenario's. */
export interface MemberSpec {
    readonly name: string;
    readonly pgPort: number;
    readonly apiPort: number;
    /** Patroni scope (default: production's, PATRONI_DEFAULTS.scope). */
    readonly scope?: string;
    /** archive_command (default: copy into the scenario's archive directory). */
    readonly archiveCommand?: string;
    /** Bootstrap by Spilo's clone method (renderers/spiloRestore.ts), as config `restore` makes it. */
    readonly clone?: PatroniMember["clone"];
}

/** One write attempt through HAProxy. */
export interface WriteRecord {
    readonly id: number;
    /** ms epoch when psql returned. */
    readonly t: number;
    readonly ok: boolean;
    /** Port of the Postgres that committed it (ok only). */
    readonly port?: number;
}

/** Runs a command without blocking the event loop (the writer keeps running); bounded by `timeoutMs`. */
export function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += String(d)));
        child.stderr.on("data", (d) => (stderr += String(d)));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, stdout, stderr });
        });
        child.on("error", (e) => {
            clearTimeout(timer);
            resolve({ code: -1, stdout, stderr: String(e) });
        });
    });
}

/** GET http://127.0.0.1:port/path as JSON; rejects when unreachable or not JSON. */
export function httpJson(port: number, urlPath: string, timeoutMs = 2000): Promise<unknown> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: HOST, port, path: urlPath, timeout: timeoutMs }, (res) => {
            let body = "";
            res.on("data", (d) => (body += String(d)));
            res.on("end", () => {
                try {
                    resolve(JSON.parse(body));
                } catch (e) {
                    reject(e);
                }
            });
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

/** GET http://127.0.0.1:port/path; resolves the status code, or 0 when unreachable. */
export function httpStatus(port: number, urlPath: string, timeoutMs = 1000): Promise<number> {
    return new Promise((resolve) => {
        const req = http.get({ host: HOST, port, path: urlPath, timeout: timeoutMs }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(0));
    });
}

export function pidAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** The postmaster's PID from its pid file, if it is running. */
export function postmasterPid(dataDir: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
        return pid > 0 && pidAlive(pid) ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Direct children of `pid` (from /proc). */
export function childPids(pid: number): number[] {
    const out: number[] = [];
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === pid) out.push(Number(e));
        } catch {
            // gone
        }
    }
    return out;
}

/** The running scenario. Create with {@link PatroniCluster.start}; always call {@link PatroniCluster.stop}. */
export class PatroniCluster {
    readonly members: PgMember[] = [];
    readonly settings: PatroniSettings = patroniSettings();
    /** Every write attempt of every writer, in order. */
    readonly writes: WriteRecord[] = [];
    private nextId = 1;
    private writing = false;
    private writerDone: Promise<void> = Promise.resolve();
    /** Superuser and replication password (the standby cluster authenticates with it too). */
    readonly password = crypto.randomBytes(18).toString("hex");
    /** Passwords of the application and monitoring roles (the post-init reads them from files). */
    readonly rolePasswords = { app: crypto.randomBytes(18).toString("hex"), monitor: crypto.randomBytes(18).toString("hex") };
    /** The roles the production post-init creates. */
    readonly roles = postgresRoles();
    readonly namespace = `/ochaos-${crypto.randomBytes(6).toString("hex")}/`;
    /** Files of the rendered post-init and roles SQL. */
    readonly postInitFiles: { script: string; sql: string; app: string; monitor: string };
    private constructor(readonly dir: string) {
        this.postInitFiles = { script: path.join(dir, "post-init.sh"), sql: path.join(dir, "roles.sql"), app: path.join(dir, "pg_app_password"), monitor: path.join(dir, "pg_monitor_password") };
    }

    /**
     * Starts etcd x3, member 1 (leader), member 2 (synchronous replica), with `members` 3 a third member (streaming,
     * asynchronous until a failover: components/postgres.ts runs 3), and HAProxy, and creates the table.
     */
    static async start(opts: { members?: 2 | 3 } = {}): Promise<PatroniCluster> {
        requireRoot("Patroni and Postgres run as the postgres user via runuser");
        requireBinaries({ etcd: "etcd-server", etcdctl: "etcd-client", patroni: "patroni", haproxy: "haproxy", psql: "postgresql-client", runuser: "util-linux" });
        requirePatroni();
        if (!fs.existsSync(path.join(PG_BIN, "postgres"))) throw new Error(`missing ${PG_BIN}/postgres: install with 'apt-get install -y postgresql-15'`);
        const c = new PatroniCluster(scratchDir("patroni", "postgres"));
        try {
            await c.bootstrap(opts.members ?? 2);
        } catch (e) {
            await c.stop();
            throw e;
        }
        return c;
    }

    private async bootstrap(members: number): Promise<void> {
        const c = this;
        await c.startEtcd();
        c.writePostInit();
        for (let i = 0; i < members; i++) {
            c.members.push(c.prepareMember({ name: spiloMemberName(PRIMARY_REGION, i + 1), pgPort: PORTS.pg[i], apiPort: PORTS.api[i] }));
        }
        fs.mkdirSync(path.join(c.dir, "archive"));
        run("chown", ["postgres:postgres", path.join(c.dir, "archive")]);
        c.startMember(c.members[0]);
        await waitFor(`${c.members[0].name} to bootstrap and become primary`, async () => (await httpStatus(c.members[0].apiPort, "/primary")) === 200, { timeoutMs: 60_000, intervalMs: 250 });
        c.startMember(c.members[1]);
        await c.waitSyncReplica(c.members[1], 90_000);
        for (const m of c.members.slice(2)) {
            c.startMember(m);
            await c.waitStreaming(m, 90_000);
        }
        await c.startHaproxy();
        const created = await c.sql(PORTS.haPrimary, "CREATE TABLE acked (id bigint PRIMARY KEY, port int NOT NULL DEFAULT inet_server_port(), at timestamptz NOT NULL DEFAULT clock_timestamp())");
        if (created.code !== 0) throw new Error(`could not create the table through HAProxy: ${created.stderr}`);
    }

    /** The etcd members of this region's DCS (killed and restarted by the region_promotion scenario). */
    readonly etcd: Daemon[] = [];
    private readonly etcdToken = `ochaos-${crypto.randomBytes(6).toString("hex")}`;

    /** Starts the three etcd members (again, on their data directories, after a kill) and waits for health. */
    async startEtcd(): Promise<void> {
        const cluster = PORTS.etcdPeer.map((p, i) => `e${i + 1}=http://${HOST}:${p}`).join(",");
        this.etcd.length = 0;
        PORTS.etcdClient.forEach((cp, i) => {
            const name = `e${i + 1}`;
            const peer = `http://${HOST}:${PORTS.etcdPeer[i]}`;
            const client = `http://${HOST}:${cp}`;
            this.etcd.push(startDaemon(`etcd-${name}`, "etcd", [
                "--name", name, "--data-dir", path.join(this.dir, `etcd-${name}`),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", cluster, "--initial-cluster-token", this.etcdToken, "--initial-cluster-state", "new",
            ], path.join(this.dir, `etcd-${name}.log`)));
        });
        const endpoints = PORTS.etcdClient.map((p) => `http://${HOST}:${p}`).join(",");
        await waitFor("etcd cluster health", () => run("etcdctl", ["--endpoints", endpoints, "endpoint", "health"], { env: { ETCDCTL_API: "3" }, allowFail: true, timeoutMs: 5000 }).code === 0, { timeoutMs: 30_000, intervalMs: 250 });
    }

    /** Writes the production post-init script and roles SQL, and the role password files (postgres-owned, 0400). */
    private writePostInit(): void {
        const f = this.postInitFiles;
        fs.writeFileSync(f.sql, renderRolesSql(this.roles), { mode: 0o444 });
        fs.writeFileSync(f.script, renderPostInitScript({ sqlFile: f.sql, passwordFiles: { app: f.app, monitor: f.monitor } }), { mode: 0o555 });
        fs.writeFileSync(f.app, this.rolePasswords.app, { mode: 0o400 });
        fs.writeFileSync(f.monitor, this.rolePasswords.monitor, { mode: 0o400 });
        run("chown", ["postgres:postgres", f.app, f.monitor]);
    }

    /** The haproxy.cfg of this scenario bound to `bindAddress` (production renderer, loopback ports). */
    haproxyConfig(bindAddress = HOST, overrides: Partial<HaproxyInput> = {}): string {
        return renderHaproxyCfg({
            servers: this.members.map((m) => ({ name: m.name, host: HOST, port: m.pgPort, apiPort: m.apiPort })),
            bindAddress,
            primaryPort: PORTS.haPrimary,
            replicaPort: PORTS.haReplica,
            statsPort: PORTS.haStats,
            ...overrides,
        });
    }

    /** Starts one more HAProxy with the same config, bound to `bindAddress` (another "host" of the region). */
    startHaproxyOn(bindAddress: string): Daemon {
        const file = path.join(this.dir, `haproxy-${bindAddress}.cfg`);
        fs.writeFileSync(file, this.haproxyConfig(bindAddress));
        run("haproxy", ["-c", "-q", "-f", file]);
        return startDaemon(`haproxy-${bindAddress}`, "haproxy", ["-db", "-f", file], path.join(this.dir, `haproxy-${bindAddress}.log`));
    }

    /** The HAProxy bound to 127.0.0.1 (the one the writer uses). */
    haproxy?: Daemon;

    /** Starts the HAProxy bound to 127.0.0.1 again, from the same file, without waiting for anything. */
    restartHaproxy(): Daemon {
        this.haproxy = startDaemon("haproxy", "haproxy", ["-db", "-f", path.join(this.dir, "haproxy.cfg")], path.join(this.dir, "haproxy.log"));
        return this.haproxy;
    }

    private async startHaproxy(): Promise<void> {
        const file = path.join(this.dir, "haproxy.cfg");
        fs.writeFileSync(file, this.haproxyConfig());
        run("haproxy", ["-c", "-q", "-f", file]);
        this.haproxy = startDaemon("haproxy", "haproxy", ["-db", "-f", file], path.join(this.dir, "haproxy.log"));
        // HAProxy 2.6 considers servers up until their first checks fail: wait until the replica is marked down.
        let streak = 0;
        const leader = this.members[0].pgPort;
        await waitFor("HAProxy to route only to the leader", async () => {
            const r = await this.sql(PORTS.haPrimary, "SELECT inet_server_port()", 3000);
            streak = r.code === 0 && Number(r.stdout.trim()) === leader ? streak + 1 : 0;
            return streak >= 5;
        }, { timeoutMs: 60_000, intervalMs: 300 });
    }

    /**
     * Creates a member's postgres-owned directory and writes its Patroni config from `renderPatroniYaml`: this
     * scenario's etcd, namespace, settings, post-init and loopback addresses, with `spec`'s name and ports, and its
     * scope, archive command and clone section when given (PitrScenario's restored clusters). Starts nothing.
     */
    prepareMember(spec: MemberSpec): PgMember {
        const dataDir = path.join(this.dir, spec.name, "data");
        fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o700 });
        run("chown", ["-R", "postgres:postgres", path.dirname(dataDir)]);
        const m: PgMember = { name: spec.name, pgPort: spec.pgPort, apiPort: spec.apiPort, dataDir, configFile: path.join(this.dir, `${spec.name}.yml`) };
        const yml = renderPatroniYaml({
            scope: spec.scope ?? PATRONI_DEFAULTS.scope,
            namespace: this.namespace,
            name: spec.name,
            etcdHosts: PORTS.etcdClient.map((p) => `${HOST}:${p}`),
            restApiListen: `${HOST}:${m.apiPort}`,
            restApiConnect: `${HOST}:${m.apiPort}`,
            pgListen: `${HOST}:${m.pgPort}`,
            pgConnect: `${HOST}:${m.pgPort}`,
            dataDir,
            binDir: PG_BIN,
            socketDir: path.dirname(dataDir),
            pgpassFile: path.join(path.dirname(dataDir), "pgpass"),
            // One plain command: Patroni also runs archive_command itself (without a shell) before pg_rewind.
            archiveCommand: spec.archiveCommand ?? `cp %p ${this.dir}/archive/%f`,
            clientCidrs: ["127.0.0.0/8"],
            settings: this.settings,
            postInit: `/bin/sh ${this.postInitFiles.script}`,
            ...(spec.clone ? { clone: spec.clone } : {}),
        });
        fs.writeFileSync(m.configFile, yml, { mode: 0o644 });
        return m;
    }

    /** Starts (or restarts) a member's Patroni as the postgres user, through `wrapper` when given (see startPatroni). */
    startMember(m: PgMember, wrapper?: string): void {
        m.daemon = startPatroni(m.name, m.configFile, this.logFile(m), this.dir, {
            PATRONI_SUPERUSER_PASSWORD: this.password,
            PATRONI_REPLICATION_PASSWORD: this.password,
        }, wrapper);
    }

    /** The member's log (Patroni's output, and its start wrapper's). */
    logFile(m: PgMember): string {
        return path.join(this.dir, `${m.name}.log`);
    }

    /** Runs one SQL statement as the superuser over TCP on `port` (a member or HAProxy). */
    sql(port: number, statement: string, timeoutMs = 5000): Promise<{ code: number; stdout: string; stderr: string }> {
        return runAsync("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", String(port), "-U", PATRONI_DEFAULTS.superuserName, "-d", "postgres", "-c", statement],
            { PGPASSWORD: this.password, PGCONNECT_TIMEOUT: "2" }, timeoutMs);
    }

    /** Runs one SQL statement over TCP as `user` with `password` on `port`, in database `db`. */
    sqlAs(port: number, user: string, password: string, db: string, statement: string, timeoutMs = 5000, host = HOST): Promise<{ code: number; stdout: string; stderr: string }> {
        return runAsync("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", String(port), "-U", user, "-d", db, "-c", statement],
            { PGPASSWORD: password, PGCONNECT_TIMEOUT: "2" }, timeoutMs);
    }

    /** pg_is_in_recovery() per member: true (replica), false (primary), undefined (unreachable). */
    async recoveryStates(): Promise<Map<string, boolean | undefined>> {
        const out = new Map<string, boolean | undefined>();
        for (const m of this.members) {
            const r = await this.sql(m.pgPort, "SELECT pg_is_in_recovery()", 3000);
            out.set(m.name, r.code === 0 ? r.stdout.trim() === "t" : undefined);
        }
        return out;
    }

    /** The member whose REST API answers 200 on /primary, if any. */
    async leader(): Promise<PgMember | undefined> {
        for (const m of this.members) if ((await httpStatus(m.apiPort, "/primary")) === 200) return m;
        return undefined;
    }

    /**
     * The leader, asked again until one answers: one pass of {@link leader} gives each member 1 s, and a loaded
     * machine's Patroni can miss it with the leader in place.
     */
    waitLeader(timeoutMs = 30_000): Promise<PgMember> {
        return waitFor("a member answering 200 on /primary", () => this.leader(), { timeoutMs, intervalMs: 250 });
    }

    /** Member name -> role from the REST API's GET /cluster ("leader", "sync_standby", "replica", ...). */
    async clusterRoles(): Promise<Map<string, string>> {
        for (const m of this.members) {
            const body = await httpJson(m.apiPort, "/cluster").catch(() => undefined);
            const members = (body as { members?: { name: string; role: string }[] } | undefined)?.members;
            if (members) return new Map(members.map((x) => [x.name, x.role]));
        }
        return new Map();
    }

    /**
     * Waits until `replica` streams from the leader as its synchronous standby, both in Postgres
     * (pg_stat_replication) and in the DCS (/sync key, so that Patroni would promote it).
     */
    async waitSyncReplica(replica: PgMember, timeoutMs: number): Promise<PgMember> {
        return waitFor(`${replica.name} to stream as the synchronous standby`, async () => {
            const l = await this.leader();
            if (!l || l === replica) return undefined;
            const r = await this.sql(l.pgPort, `SELECT sync_state FROM pg_stat_replication WHERE application_name = '${replica.name}' AND state = 'streaming'`, 3000);
            if (r.code !== 0 || r.stdout.trim() !== "sync") return undefined;
            return (await this.clusterRoles()).get(replica.name) === "sync_standby" ? l : undefined;
        }, { timeoutMs, intervalMs: 500 });
    }

    /** Waits until `replica` streams from the current leader (synchronous or not); returns the leader. */
    async waitStreaming(replica: PgMember, timeoutMs: number): Promise<PgMember> {
        return waitFor(`${replica.name} to stream from the leader`, async () => {
            const l = await this.leader();
            if (!l || l === replica) return undefined;
            const r = await this.sql(l.pgPort, `SELECT 1 FROM pg_stat_replication WHERE application_name = '${replica.name}' AND state = 'streaming'`, 3000);
            return r.code === 0 && r.stdout.trim() === "1" ? l : undefined;
        }, { timeoutMs, intervalMs: 500 });
    }

    /** Starts a writer: sequential INSERTs through HAProxy's leader port, each in its own psql. */
    startWriter(): void {
        if (this.writing) throw new Error("a writer is already running");
        this.writing = true;
        this.writerDone = (async () => {
            for (let i = 0; i < 1_000_000 && this.writing; i++) {
                const id = this.nextId++;
                const r = await this.sql(PORTS.haPrimary, `INSERT INTO acked (id) VALUES (${id}) RETURNING port`, 3000);
                const ok = r.code === 0 && /^\d+$/.test(r.stdout.trim());
                this.writes.push({ id, t: Date.now(), ok, port: ok ? Number(r.stdout.trim()) : undefined });
                if (!ok) await sleep(50);
            }
        })();
    }

    /** Stops the writer and waits for its last attempt. */
    async stopWriter(): Promise<void> {
        this.writing = false;
        await this.writerDone;
    }

    /** Waits until a write acknowledged by `port` is recorded after `since` (ms epoch). */
    async waitAckFrom(port: number, since: number, timeoutMs: number): Promise<WriteRecord> {
        return waitFor(`an acknowledged write on port ${port}`, () => this.writes.find((w) => w.ok && w.t > since && w.port === port), { timeoutMs, intervalMs: 100 });
    }

    /** Acknowledged writes since index `from` of {@link writes} that the current leader does not have. */
    async lostWrites(from = 0): Promise<number[]> {
        const acked = this.writes.slice(from).filter((w) => w.ok).map((w) => w.id);
        if (acked.length === 0) return [];
        const l = await this.waitLeader();
        const r = await this.sql(l.pgPort, `SELECT id FROM acked WHERE id BETWEEN ${Math.min(...acked)} AND ${Math.max(...acked)}`, 10_000);
        if (r.code !== 0) throw new Error(`could not read acked rows from ${l.name}: ${r.stderr}`);
        const present = new Set(r.stdout.split("\n").filter((x) => x.trim() !== "").map(Number));
        return acked.filter((id) => !present.has(id));
    }

    /** The whole host crashes: kill -9 the member's Patroni and its postmaster (with its children) together. */
    crashHost(m: PgMember): number {
        const pm = postmasterPid(m.dataDir);
        const pids = pm ? [pm, ...childPids(pm)] : [];
        const t = Date.now();
        if (m.daemon) signalDaemon(m.daemon, "SIGKILL");
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        return t;
    }

    /** kill -9 the postmaster alone; Patroni stays up and restarts it in place. */
    killPostmaster(m: PgMember): number {
        const pm = postmasterPid(m.dataDir);
        if (!pm) throw new Error(`${m.name} has no running postmaster`);
        const t = Date.now();
        process.kill(pm, "SIGKILL");
        return t;
    }

    /**
     * Planned stop, as Swarm does on an update or drain: SIGTERM to the member's Patroni (it stops Postgres and
     * releases the lock), SIGKILL only after the stop_grace_period. Returns when the signal was sent; `done`
     * resolves when the member has exited.
     */
    stopMemberCleanly(m: PgMember): { t: number; done: Promise<void> } {
        const t = Date.now();
        return { t, done: m.daemon ? stopPatroni(m.daemon) : Promise.resolve() };
    }

    /** Waits until the daemon of a crashed member has exited (its runuser/patroni group). */
    async waitDown(m: PgMember): Promise<void> {
        if (m.daemon) await waitExit(m.daemon, 10_000);
        await waitFor(`${m.name}'s postmaster to be gone`, () => postmasterPid(m.dataDir) === undefined, { timeoutMs: 10_000 });
    }

    /** The dynamic configuration Patroni is running with (REST API GET /config). */
    async configFromApi(m: PgMember): Promise<Record<string, unknown>> {
        return (await httpJson(m.apiPort, "/config")) as Record<string, unknown>;
    }

    /** Stops everything started here, by PID (Patroni stops its Postgres), then any postmaster left over; removes the scratch dir unless OCHAOS_KEEP=1. */
    async stop(): Promise<void> {
        this.writing = false;
        await this.writerDone.catch(() => undefined);
        // Replicas first, then the leader (Patroni 4 waits for its synchronous replica on a clean stop); bounded.
        for (const m of [...this.members].reverse()) if (m.daemon) await stopPatroni(m.daemon, 20_000);
        await stopAll();
        for (const m of this.members) {
            const pm = postmasterPid(m.dataDir);
            if (pm) {
                for (const pid of [pm, ...childPids(pm)]) {
                    try {
                        process.kill(pid, "SIGKILL");
                    } catch {
                        // gone
                    }
                }
            }
        }
        if (process.env.OCHAOS_KEEP !== "1") fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
