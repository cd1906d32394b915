/**
 * Chaos test: Postgres HA with Patroni (real etcd, Patroni, Postgres and HAProxy on loopback).
 * The whole leader host crashes (Patroni + postmaster kill -9): the synchronous standby must be
 * promoted, accept writes through HAProxy, hold every acknowledged write, and the old leader must
 * rejoin as a replica (never a second primary). Asserts behaviour only; timings are the benchmark's.
 *
 * Run (as root): node --import tsx --test test/chaos/postgres.test.ts
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PATRONI_DEFAULTS } from "../../renderers/patroni";
import { PORTS, PatroniCluster, PgMember } from "./patroniCluster";
import { waitFor } from "./support";

describe("postgres: Patroni failover on a host crash", { timeout: 240_000 }, () => {
    let c: PatroniCluster | undefined;
    let oldLeader: PgMember;
    let newLeader: PgMember;

    before(async () => {
        c = await PatroniCluster.start();
    });

    after(async () => {
        if (c) await c.stop();
    });

    it("runs with the DCS timings the renderer ships", async () => {
        const cfg = await c!.configFromApi(c!.members[0]);
        assert.equal(cfg.ttl, PATRONI_DEFAULTS.ttl);
        assert.equal(cfg.loop_wait, PATRONI_DEFAULTS.loopWait);
        assert.equal(cfg.retry_timeout, PATRONI_DEFAULTS.retryTimeout);
        assert.equal(cfg.primary_start_timeout, PATRONI_DEFAULTS.primaryStartTimeout);
        assert.equal(cfg.synchronous_mode, true);
    });

    it("replicates synchronously to the replica", async () => {
        const l = await c!.leader();
        assert.ok(l, "a leader reports 200 on /primary");
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
