/**
 * Chaos test: Postgres HA with Patroni (real etcd, Patroni, Postgres and HAProxy on loopback).
 * The whole leader host crashes (Patroni + postmaster kill -9): the synchronous standby must be
 * promoted, accept writes through HAProxy, hold every acknowledged write, and the old leader must
 * rejoin as a replica (never a second primary). The production post-init creates the application and
 * monitoring roles at bootstrap: the application role logs in through HAProxy and writes, the monitoring
 * role reads the statistics views. Runs Patroni 4.0.7 (what Spilo 4.0 runs). Asserts behaviour only;
 * timings are the benchmark's.
 *
 * Run (as root): node --import tsx --test test/chaos/postgres.test.ts
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PATRONI_DEFAULTS } from "../../renderers/patroni";
import { POSTGRES_ROLES_DEFAULTS } from "../../renderers/postgresRoles";
import { httpJson, PATRONI_VERSION, PORTS, PatroniCluster, PgMember, runAsync } from "./patroniCluster";
import { waitFor } from "./support";

describe("postgres: Patroni failover on a host crash", { timeout: 600_000 }, () => {
    let c: PatroniCluster | undefined;
    let oldLeader: PgMember;
    let newLeader: PgMember;

    before(async () => {
        c = await PatroniCluster.start();
    });

    after(async () => {
        if (c) await c.stop();
    });

    it(`runs Patroni ${PATRONI_VERSION}`, async () => {
        const body = (await httpJson(c!.members[0].apiPort, "/patroni")) as { patroni?: { version?: string } };
        assert.equal(body.patroni?.version, PATRONI_VERSION);
    });

    it("the post-init created the application role: it logs in through HAProxy and writes in its own database", async () => {
        const { appRole, appDatabase } = c!.roles;
        assert.equal(appRole, POSTGRES_ROLES_DEFAULTS.appRole);
        const r = await c!.sqlAs(PORTS.haPrimary, appRole, c!.rolePasswords.app, appDatabase,
            "CREATE TABLE app_probe (id int PRIMARY KEY); INSERT INTO app_probe VALUES (1); SELECT count(*) FROM app_probe");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), "1");
        const wrong = await c!.sqlAs(PORTS.haPrimary, appRole, "not-the-password", appDatabase, "SELECT 1");
        assert.notEqual(wrong.code, 0, "a wrong password is refused");
        const attrs = await c!.sql(PORTS.haPrimary, `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = '${appRole}'`);
        assert.equal(attrs.stdout.trim(), "t|f|f|f", "LOGIN, nothing more");
    });

    it("the monitoring role (pg_monitor) reads pg_stat_archiver and pg_stat_replication, and cannot write", async () => {
        const { monitorRole, appDatabase } = c!.roles;
        const l = await c!.waitLeader();
        const arch = await c!.sqlAs(l.pgPort, monitorRole, c!.rolePasswords.monitor, "postgres", "SELECT archived_count >= 0, failed_count FROM pg_stat_archiver");
        assert.equal(arch.code, 0, arch.stderr);
        assert.match(arch.stdout.trim(), /^t\|\d+$/);
        // Without pg_monitor (pg_read_all_stats) every column but pid/user/application_name reads NULL.
        const repl = await c!.sqlAs(l.pgPort, monitorRole, c!.rolePasswords.monitor, "postgres", "SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY 1");
        assert.equal(repl.code, 0, repl.stderr);
        const replica = c!.members.find((m) => m !== l)!;
        assert.equal(repl.stdout.trim(), `${replica.name}|streaming|sync`);
        const write = await c!.sqlAs(PORTS.haPrimary, monitorRole, c!.rolePasswords.monitor, appDatabase, "CREATE TABLE nope (id int)");
        assert.notEqual(write.code, 0, "the monitoring role cannot create tables");
    });

    it("the roles SQL is idempotent and rotates a password when run again", async () => {
        const { appRole, appDatabase } = c!.roles;
        const again = (appPw: string) => runAsync("psql", ["-X", "-q", "-h", "127.0.0.1", "-p", String(PORTS.haPrimary), "-U", PATRONI_DEFAULTS.superuserName, "-d", "postgres", "-f", c!.postInitFiles.sql],
            { PGPASSWORD: c!.password, PGCONNECT_TIMEOUT: "2", [POSTGRES_ROLES_DEFAULTS.passwordEnv.app]: appPw, [POSTGRES_ROLES_DEFAULTS.passwordEnv.monitor]: c!.rolePasswords.monitor }, 15_000);
        const same = await again(c!.rolePasswords.app);
        assert.equal(same.code, 0, same.stderr);
        const rows = await c!.sqlAs(PORTS.haPrimary, appRole, c!.rolePasswords.app, appDatabase, "SELECT count(*) FROM app_probe");
        assert.equal(rows.stdout.trim(), "1", "a second run keeps the role, its password and its data");
        const rotated = await again("rotated-password-1");
        assert.equal(rotated.code, 0, rotated.stderr);
        assert.equal((await c!.sqlAs(PORTS.haPrimary, appRole, "rotated-password-1", appDatabase, "SELECT 1")).code, 0);
        assert.notEqual((await c!.sqlAs(PORTS.haPrimary, appRole, c!.rolePasswords.app, appDatabase, "SELECT 1")).code, 0, "the old password no longer works");
        assert.equal((await again(c!.rolePasswords.app)).code, 0);
        const missing = await runAsync("psql", ["-X", "-q", "-h", "127.0.0.1", "-p", String(PORTS.haPrimary), "-U", PATRONI_DEFAULTS.superuserName, "-d", "postgres", "-f", c!.postInitFiles.sql],
            { PGPASSWORD: c!.password, PGCONNECT_TIMEOUT: "2" }, 15_000);
        assert.notEqual(missing.code, 0, "without the password variables the script stops before changing anything");
    });

    it("runs with the DCS timings the renderer ships", async () => {
        const cfg = await c!.configFromApi(c!.members[0]);
        assert.equal(cfg.ttl, PATRONI_DEFAULTS.ttl);
        assert.equal(cfg.loop_wait, PATRONI_DEFAULTS.loopWait);
        assert.equal(cfg.retry_timeout, PATRONI_DEFAULTS.retryTimeout);
        assert.equal(cfg.primary_start_timeout, PATRONI_DEFAULTS.primaryStartTimeout);
        assert.equal(cfg.synchronous_mode, true);
        const sync = await c!.sql(c!.members[0].pgPort, "SHOW recovery_init_sync_method");
        assert.equal(sync.stdout.trim(), "syncfs");
    });

    it("replicates synchronously to the replica", async () => {
        const l = await c!.waitLeader();
        oldLeader = l;
        newLeader = c!.members.find((m) => m !== l)!;
        const sync = await c!.sql(l.pgPort, `SELECT sync_state FROM pg_stat_replication WHERE application_name = '${newLeader.name}'`);
        assert.equal(sync.stdout.trim(), "sync", "the replica is the synchronous standby");
        const ins = await c!.sql(PORTS.haPrimary, "INSERT INTO acked (id) VALUES (0) RETURNING port");
        assert.equal(ins.code, 0, ins.stderr);
        assert.equal(Number(ins.stdout.trim()), l.pgPort, "HAProxy's leader port reaches the leader");
        // Synchronous commit: the row is on the standby once the INSERT returned (visible after replay).
        await waitFor("row 0 on the replica", async () => (await c!.sql(newLeader.pgPort, "SELECT count(*) FROM acked WHERE id = 0")).stdout.trim() === "1", { timeoutMs: 10_000 });
        const states = await c!.recoveryStates();
        assert.equal(states.get(newLeader.name), true, "the replica is in recovery");
    });

    it("promotes the synchronous standby when the leader host crashes, losing no acknowledged write", async () => {
        const from = c!.writes.length;
        c!.startWriter();
        await waitFor("20 acknowledged writes before the crash", () => c!.writes.filter((w) => w.ok).length >= 20, { timeoutMs: 30_000 });
        const tKill = c!.crashHost(oldLeader);
        await c!.waitDown(oldLeader);
        // Promotion takes about ttl; allow generously (behaviour, not timing, is asserted here).
        const first = await c!.waitAckFrom(newLeader.pgPort, tKill, 90_000);
        assert.equal(first.port, newLeader.pgPort);
        await waitFor("10 more writes on the new leader", () => c!.writes.filter((w) => w.ok && w.t > first.t).length >= 10, { timeoutMs: 20_000 });
        await c!.stopWriter();
        const states = await c!.recoveryStates();
        assert.equal(states.get(newLeader.name), false, "the old replica is now a primary");
        assert.equal(states.get(oldLeader.name), undefined, "the crashed leader is down");
        const acked = c!.writes.slice(from).filter((w) => w.ok);
        assert.ok(acked.some((w) => w.port === oldLeader.pgPort), "writes were acknowledged by the old leader before the crash");
        const lost = await c!.lostWrites(from);
        assert.deepEqual(lost, [], `acknowledged writes missing on the new leader: ${lost.join(",")}`);
        const via = await c!.sql(PORTS.haPrimary, "SELECT inet_server_port(), pg_is_in_recovery()");
        assert.equal(via.stdout.trim(), `${newLeader.pgPort}|f`, "a client through HAProxy reaches the new leader");
    });

    it("rejoins the restarted old leader as a replica, with exactly one primary", async () => {
        c!.startMember(oldLeader);
        const l = await c!.waitSyncReplica(oldLeader, 90_000);
        assert.equal(l.name, newLeader.name, "the new leader kept the leadership");
        const states = await c!.recoveryStates();
        assert.equal(states.get(oldLeader.name), true, "the old leader runs as a replica");
        const primaries = [...states.values()].filter((s) => s === false).length;
        assert.equal(primaries, 1, "exactly one member reports pg_is_in_recovery() = false");
        const lost = await c!.lostWrites(0);
        assert.deepEqual(lost, [], "still no acknowledged write missing");
    });
});
