/**
 * Baseline scenario: the user's design document's own Postgres failover (ha-architecture.md, "3. PostgreSQL"),
 * measured on this machine so that the README can compare it with Patroni.
 *
 * Two plain PostgreSQL 15 servers with streaming replication (`pg_basebackup -R`), the document's server options
 * (`synchronous_commit=on` but no `synchronous_standby_names`), and `scripts/postgres_failover.sh` (the document's
 * bash loop). A writer commits rows through psql subprocesses; the primary's postmaster is SIGKILLed; we measure the
 * seconds from the kill to the first acknowledged write on the promoted standby and count acknowledged writes lost.
 * Then the old primary is started again exactly as before (what the document's Swarm restart policy does) and we
 * check whether both servers now accept writes: `two_primaries_after_restart`.
 *
 * Used by test/chaos/baseline.test.ts (behaviour) and bench/cases/baseline.ts (timings).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Daemon, requireBinaries, requireRoot, run, scratchDir, sleep, startDaemon, stopDaemon, waitFor } from "./support";

export const PG_BIN = "/usr/lib/postgresql/15/bin";
const PSQL = `${PG_BIN}/psql`;
const HOST = "127.0.0.1";
const SCRIPT = path.resolve(__dirname, "../../scripts/postgres_failover.sh");

/** Ports of the two servers; inside this scenario's assigned range 27000-27999. */
export const BASELINE_PORTS = { primary: 27432, standby: 27433 } as const;

/** The primary's server options, as in the document's `command:` for postgresql-primary (plus where to listen). */
const PRIMARY_OPTIONS = ["wal_level=replica", "max_wal_senders=10", "max_replication_slots=10", "hot_standby=on", "synchronous_commit=on"];
/** The standby's server options, as in the document's `command:` for postgresql-standby. */
const STANDBY_OPTIONS = ["hot_standby=on"];

/** State of one server after the old primary has been restarted. */
export interface NodeState {
    readonly port: number;
    /** `pg_is_in_recovery()`; false means the server is a primary. */
    readonly inRecovery: boolean;
    /** Whether an INSERT was acknowledged by this server. */
    readonly acceptedWrite: boolean;
    /** The timeline the server is on (writing WAL on, or receiving it on as a standby). */
    readonly timeline: number;
}

/** What one run of the baseline scenario observed. */
export interface BaselineRunResult {
    /** Seconds the writer ran before the kill (warm-up plus jitter). */
    readonly warmupS: number;
    /** Seconds from the SIGKILL of the primary's postmaster to the first acknowledged write on the promoted standby. */
    readonly killToWritableS: number;
    /** Writes acknowledged by the old primary (before or during the kill). */
    readonly ackedOnOldPrimary: number;
    /** Writes acknowledged by the promoted standby. */
    readonly ackedOnNewPrimary: number;
    /** Ids acknowledged by the old primary that are missing on the promoted standby. */
    readonly lostIds: readonly number[];
    /** The script's exit code (the document's loop exits 0 after its single promotion), null if it had not exited. */
    readonly scriptExitCode: number | null;
    /** The script's output. */
    readonly scriptLog: string;
    /** Replication as the primary reported it before the kill. */
    readonly replication: { readonly synchronousCommit: string; readonly synchronousStandbyNames: string; readonly syncState: string };
    /** The promoted standby (the new primary) and the restarted old primary. */
    readonly afterRestart: { readonly newPrimary: NodeState; readonly oldPrimary: NodeState };
    /** Both servers are primaries and both acknowledged a write after the old primary was restarted. */
    readonly twoPrimariesAfterRestart: boolean;
}

interface Env {
    readonly dir: string;
    readonly passfile: string;
}

/** Runs psql synchronously against 127.0.0.1:port as `postgres`; returns trimmed unaligned output. */
function psql(env: Env, port: number, sql: string, allowFail = false): { code: number; out: string; err: string } {
    const r = run(PSQL, ["-h", HOST, "-p", String(port), "-U", "postgres", "-d", "postgres", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], {
        env: { PGPASSFILE: env.passfile, PGCONNECT_TIMEOUT: "2" },
        timeoutMs: 10_000,
        allowFail,
    });
    return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** One acknowledged INSERT through a psql subprocess (exit 0 after COMMIT); never throws. */
function insertAsync(env: Env, port: number, id: number): Promise<boolean> {
    const args = ["-h", HOST, "-p", String(port), "-U", "postgres", "-d", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `INSERT INTO writes (id) VALUES (${id})`];
    return new Promise((resolve) => {
        execFile(PSQL, args, { env: { ...process.env, PGPASSFILE: env.passfile, PGCONNECT_TIMEOUT: "2" }, timeout: 5_000 }, (err) => resolve(err === null));
    });
}

/** An acknowledged write: which server acknowledged which id, and when (ms, `Date.now()`). */
interface Ack {
    readonly id: number;
    readonly port: number;
    readonly atMs: number;
}

/**
 * Writes ids 1, 2, 3 ... one commit at a time. Until `primaryKilled` it writes to the primary; after the first
 * failure that follows the kill it writes to the standby (as a client repointed by the proxy would), and keeps
 * trying until the standby acknowledges writes. Bounded by `maxAttempts` and `deadlineMs`.
 */
class Writer {
    readonly acks: Ack[] = [];
    errorsBeforeKill = 0;
    primaryKilled = false;
    private stopped = false;
    private target: number;
    private done: Promise<void> = Promise.resolve();

    constructor(private readonly env: Env, private readonly ports: { primary: number; standby: number }) {
        this.target = ports.primary;
    }

    start(maxAttempts: number, deadlineMs: number): void {
        this.done = (async () => {
            const deadline = Date.now() + deadlineMs;
            for (let id = 1; id <= maxAttempts && !this.stopped && Date.now() < deadline; id++) {
                const port = this.target;
                if (await insertAsync(this.env, port, id)) {
                    this.acks.push({ id, port, atMs: Date.now() });
                    continue;
                }
                if (port === this.ports.primary) {
                    if (this.primaryKilled) this.target = this.ports.standby;
                    else this.errorsBeforeKill++;
                }
                await sleep(100);
            }
        })();
    }

    acksOn(port: number): Ack[] {
        return this.acks.filter((a) => a.port === port);
    }

    async stop(): Promise<void> {
        this.stopped = true;
        await this.done;
    }
}

function startPostgres(name: string, dataDir: string, port: number, socketDir: string, options: string[], logFile: string): Daemon {
    const args = ["-D", dataDir, "-c", `port=${port}`, "-c", `listen_addresses=${HOST}`, "-c", `unix_socket_directories=${socketDir}`];
    for (const o of options) args.push("-c", o);
    return startDaemon(name, `${PG_BIN}/postgres`, args, logFile, { user: "postgres" });
}

async function waitReady(port: number, timeoutMs: number): Promise<void> {
    await waitFor(`postgres on ${HOST}:${port} to accept connections`, () => run(`${PG_BIN}/pg_isready`, ["-h", HOST, "-p", String(port)], { allowFail: true }).code === 0, {
        timeoutMs,
        intervalMs: 200,
    });
}

/** Waits until no process of the daemon's process group is left (backends outlive a SIGKILLed postmaster briefly). */
async function waitGroupGone(d: Daemon, timeoutMs: number): Promise<void> {
    await waitFor(`the processes of ${d.name} to exit`, () => {
        try {
            process.kill(-d.pid, 0);
            return false;
        } catch {
            return true;
        }
    }, { timeoutMs, intervalMs: 100 });
}

function nodeState(env: Env, port: number, marker: number): NodeState {
    const rec = psql(env, port, "SELECT pg_is_in_recovery()");
    // The timeline the server writes WAL on now (the first 8 hex digits of its current WAL file name). The latest
    // checkpoint's timeline lags: a promotion does not wait for a checkpoint, so it can still show the old one.
    const tl = rec.out === "t"
        ? psql(env, port, "SELECT received_tli FROM pg_stat_wal_receiver")
        : psql(env, port, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)");
    const w = psql(env, port, `INSERT INTO writes (id) VALUES (${marker})`, true);
    return { port, inRecovery: rec.out === "t", acceptedWrite: w.code === 0, timeline: rec.out === "t" ? Number(tl.out) : parseInt(tl.out, 16) };
}

/** Options for {@link runBaselineScenario}. */
export interface BaselineOptions {
    /** Seconds of steady writing before the kill (the script must have run at least one health check). */
    readonly warmupS?: number;
    /**
     * Up to this many extra seconds, drawn uniformly, are added to the warm-up so that the kill lands at a random
     * point of the script's 5 s health-check cycle (as a real crash would); 0 makes the phase fixed.
     */
    readonly jitterS?: number;
    /** Keep the scratch directory (logs, data dirs) after a successful run. */
    readonly keepDir?: boolean;
}

/** Runs the whole scenario once, on fresh data dirs, and stops every daemon it started before returning. */
export async function runBaselineScenario(opts: BaselineOptions = {}): Promise<BaselineRunResult> {
    requireRoot("the servers and the script run as the postgres user via runuser");
    requireBinaries({
        [`${PG_BIN}/initdb`]: "postgresql-15",
        [`${PG_BIN}/postgres`]: "postgresql-15",
        [`${PG_BIN}/pg_basebackup`]: "postgresql-15",
        [`${PG_BIN}/pg_ctl`]: "postgresql-15",
        [`${PG_BIN}/pg_isready`]: "postgresql-15",
        [PSQL]: "postgresql-client-15",
        runuser: "util-linux",
        bash: "bash",
    });
    if (!fs.existsSync(SCRIPT)) throw new Error(`missing ${SCRIPT}`);
    const ports = BASELINE_PORTS;
    const dir = scratchDir("baseline", "postgres");
    const primaryDir = path.join(dir, "primary");
    const standbyDir = path.join(dir, "standby");
    const env: Env = { dir, passfile: path.join(dir, "pgpass") };
    const daemons: Daemon[] = [];
    let writer: Writer | undefined;
    try {
        // Secrets live in files only (0600, owned by postgres): the initdb password file and a libpq passfile.
        const superPw = randomBytes(18).toString("hex");
        const replPw = randomBytes(18).toString("hex");
        const pwfile = path.join(dir, "superuser.pw");
        fs.writeFileSync(pwfile, `${superPw}\n`, { mode: 0o600 });
        fs.writeFileSync(env.passfile, `${HOST}:*:*:postgres:${superPw}\n${HOST}:*:*:replicator:${replPw}\n`, { mode: 0o600 });
        run("chown", ["postgres:postgres", pwfile, env.passfile]);

        run(`${PG_BIN}/initdb`, ["-D", primaryDir, "-U", "postgres", `--pwfile=${pwfile}`, "--auth-local=peer", "--auth-host=scram-sha-256", "--locale=C", "-E", "UTF8", "--no-sync"], {
            user: "postgres",
            timeoutMs: 60_000,
        });
        daemons.push(startPostgres("pg-primary", primaryDir, ports.primary, dir, PRIMARY_OPTIONS, path.join(dir, "primary.log")));
        await waitReady(ports.primary, 30_000);
        psql(env, ports.primary, `CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${replPw}'`);
        psql(env, ports.primary, "CREATE TABLE writes (id bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp())");

        run(`${PG_BIN}/pg_basebackup`, ["-h", HOST, "-p", String(ports.primary), "-U", "replicator", "-D", standbyDir, "-R", "-X", "stream", "-c", "fast", "--no-sync"], {
            user: "postgres",
            env: { PGPASSFILE: env.passfile },
            timeoutMs: 60_000,
        });
        daemons.push(startPostgres("pg-standby", standbyDir, ports.standby, dir, STANDBY_OPTIONS, path.join(dir, "standby.log")));
        await waitReady(ports.standby, 30_000);
        await waitFor("the standby to stream from the primary", () => psql(env, ports.primary, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", true).out === "1", {
            timeoutMs: 30_000,
            intervalMs: 200,
        });
        const [syncState] = psql(env, ports.primary, "SELECT sync_state FROM pg_stat_replication").out.split("\n");
        const replication = {
            synchronousCommit: psql(env, ports.primary, "SHOW synchronous_commit").out,
            synchronousStandbyNames: psql(env, ports.primary, "SHOW synchronous_standby_names").out,
            syncState: syncState ?? "",
        };

        const script = startDaemon("postgres-failover.sh", "bash", [SCRIPT], path.join(dir, "failover-script.log"), {
            user: "postgres",
            env: {
                PATH: `${PG_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
                PRIMARY_HOST: HOST,
                PRIMARY_PORT: String(ports.primary),
                STANDBY_HOST: HOST,
                STANDBY_DATA_DIR: standbyDir,
                PG_USER: "postgres",
            },
        });
        daemons.push(script);

        writer = new Writer(env, ports);
        writer.start(200_000, 180_000);
        const warmupMs = ((opts.warmupS ?? 3) + Math.random() * (opts.jitterS ?? 5)) * 1000;
        const w = writer;
        await sleep(warmupMs);
        await waitFor("steady acknowledged writes on the primary", () => w.acksOn(ports.primary).length >= 20, { timeoutMs: 30_000, intervalMs: 100 });
        if (script.exited()) throw new Error(`the failover script exited before the kill: ${fs.readFileSync(script.logFile, "utf8")}`);

        // SIGKILL the primary's postmaster (first line of postmaster.pid), not the runuser wrapper.
        const postmasterPid = Number(fs.readFileSync(path.join(primaryDir, "postmaster.pid"), "utf8").split("\n")[0]);
        if (!Number.isInteger(postmasterPid) || postmasterPid <= 1) throw new Error(`bad postmaster.pid in ${primaryDir}`);
        writer.primaryKilled = true;
        const killedAt = Date.now();
        process.kill(postmasterPid, "SIGKILL");

        const firstNew = await waitFor("the first acknowledged write on the promoted standby", () => w.acksOn(ports.standby)[0], { timeoutMs: 120_000, intervalMs: 50 });
        await sleep(500);
        await writer.stop();
        await waitExitBounded(script, 30_000);

        const onNew = new Set(psql(env, ports.standby, "SELECT id FROM writes").out.split("\n").filter((s) => s !== "").map(Number));
        const ackedOld = writer.acksOn(ports.primary);
        const lostIds = ackedOld.map((a) => a.id).filter((id) => !onNew.has(id));

        // The orchestrator's restart policy starts the old primary again, exactly as it was.
        const oldPrimary = daemons[0];
        await waitGroupGone(oldPrimary, 30_000);
        daemons.push(startPostgres("pg-primary-restarted", primaryDir, ports.primary, dir, PRIMARY_OPTIONS, path.join(dir, "primary.log")));
        await waitReady(ports.primary, 60_000);
        const newState = nodeState(env, ports.standby, -1);
        const oldState = nodeState(env, ports.primary, -2);

        const result: BaselineRunResult = {
            warmupS: warmupMs / 1000,
            killToWritableS: (firstNew.atMs - killedAt) / 1000,
            ackedOnOldPrimary: ackedOld.length,
            ackedOnNewPrimary: writer.acksOn(ports.standby).length,
            lostIds,
            scriptExitCode: script.child.exitCode,
            scriptLog: fs.readFileSync(script.logFile, "utf8"),
            replication,
            afterRestart: { newPrimary: newState, oldPrimary: oldState },
            twoPrimariesAfterRestart: !newState.inRecovery && !oldState.inRecovery && newState.acceptedWrite && oldState.acceptedWrite,
        };
        if (writer.errorsBeforeKill > 0) throw new Error(`${writer.errorsBeforeKill} writes failed before the kill; see ${dir}`);
        await stopDaemons(daemons);
        if (!opts.keepDir) fs.rmSync(dir, { recursive: true, force: true });
        return result;
    } finally {
        if (writer) await writer.stop();
        await stopDaemons(daemons);
    }
}

async function waitExitBounded(d: Daemon, timeoutMs: number): Promise<void> {
    await waitFor(`${d.name} to exit`, () => d.exited(), { timeoutMs, intervalMs: 100 });
}

async function stopDaemons(daemons: Daemon[]): Promise<void> {
    for (const d of [...daemons].reverse()) await stopDaemon(d);
}
