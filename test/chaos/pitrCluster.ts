/**
 * Point-in-time restore with real daemons (Patroni 4.0.7, Postgres 15, etcd), through the same Patroni bootstrap
 * path the program configures: Spilo's `clone_with_wale` custom bootstrap method, rendered by
 * `renderers/spiloRestore.ts` `spiloCloneBootstrap` (via `renderPatroniYaml`'s `clone`), with recovery_target_time
 * and promote at the target, everything else from our renderers (DCS section, post-init, pg_hba).
 *
 * WAL-G is not in Debian, so a local directory stands in for the S3 bucket, and PostgreSQL's own commands stand in
 * for WAL-G's: the source cluster's `archive_command` copies each WAL segment into `<bucket>/wal/` (WAL-G:
 * `wal-push`), `pg_basebackup -Ft -X none` writes a base backup into `<bucket>/basebackups/base-<start epoch>/`
 * (WAL-G: `backup-push`, which also leaves the WAL to the archive), the clone command extracts the latest base
 * backup that started before the target (Spilo's clone_with_wale.py `choose_backup` + `wal-g backup-fetch`), and
 * the restore_command copies from `<bucket>/wal/` (Spilo's restore_command.sh + `wal-g wal-fetch`). Those two
 * commands are the only parts of the bootstrap section that differ from production.
 *
 * The story: a base backup, then rows committed continuously (one INSERT per psql, each acknowledged), a target
 * time T in the middle, and after T a `DROP TABLE precious` ("someone dropped a table at 14:02"). Rows whose
 * COMMIT returned before T must all be in the restored cluster; rows whose INSERT started after T must not;
 * `precious` must be back. Used by bench/cases/pitrRestore.ts, test/chaos/pitrRestore.test.ts and the drill.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PATRONI_DEFAULTS } from "../../renderers/patroni";
import { restoredScope } from "../../config/restore";
import { httpStatus, PatroniCluster, PG_BIN, PgMember, PORTS, runAsync, shiftPort, stopPatroni } from "./patroniCluster";
import { run, sleep, waitFor } from "./support";

const HOST = "127.0.0.1";
/** Ports of the restored cluster's members (inside the scenario range, apart from PatroniCluster's; OCHAOS_PG_PORT_OFFSET shifts them). */
export const RESTORE_PORTS = { pg: [shiftPort(25141), shiftPort(25142)], api: [shiftPort(25151), shiftPort(25152)] } as const;

/** One acknowledged-or-not INSERT of the writer, with when it started and when psql returned. */
interface Row {
    readonly id: number;
    readonly start: number;
    readonly end: number;
    readonly ok: boolean;
}

/** What one restore measured. */
export interface RestoreRun {
    /** Seconds from starting the restored member's Patroni to the first write acknowledged by the application role. */
    readonly seconds: number;
    /** Rows committed (acknowledged) before the target that the restored cluster lacks: must be 0. */
    readonly rowsMissingBeforeTarget: number;
    /** Rows whose INSERT started after the target that the restored cluster has: must be 0. */
    readonly rowsAfterTarget: number;
    /** Rows on either side (acknowledged before T; started after T). */
    readonly rowsBefore: number;
    readonly rowsAfter: number;
    /** The dropped table is back with all its rows. */
    readonly preciousBack: boolean;
    /** The restored member that leads. */
    readonly member: PgMember;
}

/** One psql session over HAProxy's leader port: a statement at a time, its one output line as the answer. */
class PsqlSession {
    private readonly child: ChildProcess;
    private buf = "";
    private waiting?: (line: string) => void;
    constructor(password: string) {
        this.child = spawn("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", String(PORTS.haPrimary), "-U", PATRONI_DEFAULTS.superuserName, "-d", "postgres"],
            { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" }, stdio: ["pipe", "pipe", "inherit"] });
        this.child.stdout!.on("data", (d) => {
            this.buf += String(d);
            let nl: number;
            while ((nl = this.buf.indexOf("\n")) >= 0) {
                const line = this.buf.slice(0, nl).trim();
                this.buf = this.buf.slice(nl + 1);
                if (line !== "" && this.waiting) {
                    const w = this.waiting;
                    this.waiting = undefined;
                    w(line);
                }
            }
        });
    }
    /** Sends one statement (ending in a query that prints one line); resolves that line, or "" after 10 s. */
    run(statement: string): Promise<string> {
        return new Promise((resolve) => {
            const t = setTimeout(() => { this.waiting = undefined; resolve(""); }, 10_000);
            this.waiting = (line) => { clearTimeout(t); resolve(line); };
            this.child.stdin!.write(statement + "\n");
        });
    }
    close(): void {
        this.child.stdin!.end();
        this.child.kill("SIGTERM");
    }
}

/** The prepared source (base backup, WAL, rows around the target); restore it any number of times. */
export class PitrScenario {
    readonly bucket: string;
    readonly rows: Row[] = [];
    targetMs = 0;
    private restoredMembers: PgMember[] = [];
    private restores = 0;

    private constructor(readonly source: PatroniCluster) {
        this.bucket = path.join(source.dir, "bucket");
    }

    get targetTime(): string {
        return new Date(this.targetMs).toISOString();
    }

    /** Source cluster up, base backup, rows before and after T, DROP TABLE after T, WAL archived; then the source stops. */
    static async prepare(opts: { writeSeconds?: number } = {}): Promise<PitrScenario> {
        const source = await PatroniCluster.start();
        const s = new PitrScenario(source);
        try {
            await s.prepareSource(opts.writeSeconds ?? 3);
        } catch (e) {
            await s.stop();
            throw e;
        }
        return s;
    }

    private async sqlOk(statement: string): Promise<string> {
        const r = await this.source.sql(PORTS.haPrimary, statement, 30_000);
        if (r.code !== 0) throw new Error(`${statement}: ${r.stderr}`);
        return r.stdout.trim();
    }

    private async prepareSource(writeSeconds: number): Promise<void> {
        const c = this.source;
        // The source's archive_command copies into <dir>/archive: that directory is the bucket's wal/ part.
        fs.mkdirSync(path.join(this.bucket, "basebackups"), { recursive: true });
        fs.symlinkSync(path.join(c.dir, "archive"), path.join(this.bucket, "wal"));
        await this.sqlOk("CREATE TABLE pitr (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        await this.sqlOk("CREATE TABLE precious (id int PRIMARY KEY, what text NOT NULL)");
        await this.sqlOk("INSERT INTO precious SELECT g, 'row ' || g FROM generate_series(1, 100) g");
        // The base backup (WAL-G backup-push stand-in): tar format, no WAL inside (the archive has it).
        const started = Math.floor(Date.now() / 1000);
        const dest = path.join(this.bucket, "basebackups", `base-${started}`);
        const bb = await runAsync(path.join(PG_BIN, "pg_basebackup"), ["-h", HOST, "-p", String(PORTS.haPrimary), "-U", PATRONI_DEFAULTS.replicationUserName, "-D", dest, "-Ft", "-X", "none", "-c", "fast"],
            { PGPASSWORD: c.password, PGCONNECT_TIMEOUT: "5" }, 120_000);
        if (bb.code !== 0) throw new Error(`pg_basebackup: ${bb.stderr}`);
        run("chown", ["-R", "postgres:postgres", this.bucket]);
        await sleep(1100); // base backup start strictly before T (second resolution of the stand-in's choice)
        // Rows before and after T, one autocommit INSERT at a time on one psql session (fast: no process per row); a
        // row is acknowledged when psql prints its id, which it does only after the COMMIT returned. T in the middle.
        const session = new PsqlSession(c.password);
        try {
            let id = 1;
            const writeFor = async (ms: number) => {
                const until = Date.now() + ms;
                while (Date.now() < until && id < 1_000_000) {
                    const start = Date.now();
                    const ok = (await session.run(`INSERT INTO pitr (id) VALUES (${id}) RETURNING id;`)) === String(id);
                    this.rows.push({ id, start, end: Date.now(), ok });
                    id++;
                }
            };
            await writeFor(writeSeconds * 1000);
            this.targetMs = Date.now();
            await writeFor(250);
            await session.run("DROP TABLE precious; SELECT 'dropped';");
            await writeFor(writeSeconds * 1000);
        } finally {
            session.close();
        }
        // archive_timeout (60 s) would switch the segment; here we switch now and wait until it is archived.
        const seg = await this.sqlOk("SELECT pg_walfile_name(pg_switch_wal())");
        await waitFor(`WAL segment ${seg} in the archive`, () => fs.existsSync(path.join(c.dir, "archive", seg)), { timeoutMs: 60_000, intervalMs: 250 });
        // The source is gone (a dropped table is restored into a new cluster; a lost site has nothing left).
        for (const m of [...c.members].reverse()) if (m.daemon) await stopPatroni(m.daemon, 30_000);
        run("chmod", ["-R", "a+rX", this.bucket]);
    }

    /** The clone stand-in: picks the latest base backup that started before T and extracts it into --datadir. */
    private writeCloneScript(): string {
        const file = path.join(this.source.dir, "clone-standin.sh");
        fs.writeFileSync(file, [
            "#!/bin/sh",
            "# Stand-in for Spilo's clone_with_wale.py (choose_backup + wal-g backup-fetch) on a local directory.",
            "set -eu",
            `bucket='${this.bucket}'`,
            "target=''; datadir=''",
            'for a in "$@"; do case "$a" in --datadir=*) datadir="${a#--datadir=}" ;; --target-epoch=*) target="${a#--target-epoch=}" ;; esac; done',
            '[ -n "$target" ] && [ -n "$datadir" ] || { echo "clone-standin: need --target-epoch and --datadir" >&2; exit 1; }',
            "best=''",
            'for b in "$bucket"/basebackups/base-*; do',
            '    s="${b##*/base-}"',
            '    if [ "$s" -lt "$target" ] && { [ -z "$best" ] || [ "$s" -gt "${best##*/base-}" ]; }; then best="$b"; fi',
            "done",
            '[ -n "$best" ] || { echo "clone-standin: no base backup started before the target" >&2; exit 1; }',
            'mkdir -p "$datadir" && chmod 700 "$datadir"',
            'tar -xf "$best/base.tar" -C "$datadir"',
            'mkdir -p "$datadir/pg_wal"',
            'echo "clone-standin: restored $best into $datadir"',
            "",
        ].join("\n"), { mode: 0o755 });
        return file;
    }

    /**
     * One restore: a NEW cluster (its own scope, as config `restore` makes it) whose first member bootstraps by
     * the clone method; measured to the first write the application role gets acknowledged. `members` > 1 starts
     * the other member(s) after, as replicas of the restored leader.
     */
    async restore(members = 1): Promise<RestoreRun> {
        const c = this.source;
        await this.stopRestored();
        this.restores++;
        // A new scope per restore (production: named after targetTime; here also after the run, so reruns differ).
        const scope = `${restoredScope(PATRONI_DEFAULTS.scope, this.targetMs)}-${this.restores}`;
        const clone = this.writeCloneScript();
        const archive = path.join(c.dir, `archive-${scope}`);
        fs.mkdirSync(archive);
        run("chown", ["postgres:postgres", archive]);
        // The production section (renderers/spiloRestore.ts) with the local-directory stand-ins for WAL-G.
        const cloneSection = {
            fromScope: PATRONI_DEFAULTS.scope,
            targetTime: this.targetTime,
            command: `/bin/sh ${clone} --target-epoch=${Math.floor(this.targetMs / 1000)}`,
            restoreCommand: `cp ${path.join(this.bucket, "wal")}/%f %p`,
        };
        this.restoredMembers = RESTORE_PORTS.pg.slice(0, members).map((pgPort, i) =>
            c.prepareMember({ name: `restored-${this.restores}-${i + 1}`, pgPort, apiPort: RESTORE_PORTS.api[i], scope, archiveCommand: `cp %p ${archive}/%f`, clone: cloneSection }));
        const leader = this.restoredMembers[0];
        const t0 = Date.now();
        c.startMember(leader);
        const log = path.join(c.dir, `${leader.name}.log`);
        await waitFor(`${leader.name} to restore and lead`, async () => {
            if (leader.daemon?.exited()) throw new Error(`${leader.name}'s Patroni exited during the restore:\n${fs.readFileSync(log, "utf8").split("\n").slice(-30).join("\n")}`);
            return (await httpStatus(leader.apiPort, "/primary")) === 200;
        }, { timeoutMs: 300_000, intervalMs: 200 });
        const r = c.roles;
        await waitFor("the application role's first acknowledged write on the restored cluster", async () =>
            (await c.sqlAs(leader.pgPort, r.appRole, c.rolePasswords.app, r.appDatabase, "CREATE TABLE IF NOT EXISTS restored_ok (at timestamptz DEFAULT now()); INSERT INTO restored_ok DEFAULT VALUES", 5000)).code === 0,
        { timeoutMs: 60_000, intervalMs: 200 });
        const seconds = (Date.now() - t0) / 1000;
        for (const m of this.restoredMembers.slice(1)) c.startMember(m);
        return { seconds, ...(await this.verify(leader)), member: leader };
    }

    /** The row rule on the restored leader. */
    private async verify(m: PgMember): Promise<Omit<RestoreRun, "seconds" | "member">> {
        const c = this.source;
        const ids = await c.sql(m.pgPort, "SELECT id FROM pitr", 30_000);
        if (ids.code !== 0) throw new Error(`reading pitr from the restored cluster: ${ids.stderr}`);
        const present = new Set(ids.stdout.split("\n").filter((x) => x.trim() !== "").map(Number));
        const before = this.rows.filter((w) => w.ok && w.end < this.targetMs);
        const after = this.rows.filter((w) => w.start > this.targetMs);
        const precious = await c.sql(m.pgPort, "SELECT count(*) FROM precious", 10_000);
        return {
            rowsBefore: before.length,
            rowsAfter: after.length,
            rowsMissingBeforeTarget: before.filter((w) => !present.has(w.id)).length,
            rowsAfterTarget: after.filter((w) => present.has(w.id)).length,
            preciousBack: precious.code === 0 && precious.stdout.trim() === "100",
        };
    }

    /** Waits until every restored member runs (the replicas streaming from the restored leader). */
    async waitRestoredReplicas(timeoutMs = 120_000): Promise<void> {
        const c = this.source;
        const [leader, ...replicas] = this.restoredMembers;
        for (const m of replicas) {
            await waitFor(`${m.name} to stream from ${leader.name}`, async () => {
                const r = await c.sql(leader.pgPort, `SELECT state FROM pg_stat_replication WHERE application_name = '${m.name}'`, 3000);
                return r.code === 0 && r.stdout.trim() === "streaming";
            }, { timeoutMs, intervalMs: 500 });
        }
    }

    get restored(): readonly PgMember[] {
        return this.restoredMembers;
    }

    private async stopRestored(): Promise<void> {
        for (const m of [...this.restoredMembers].reverse()) if (m.daemon) await stopPatroni(m.daemon, 30_000);
        this.restoredMembers = [];
    }

    async stop(): Promise<void> {
        await this.stopRestored();
        await this.source.stop();
    }
}
