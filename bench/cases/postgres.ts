/**
 * Failover benchmark cases for Postgres via Patroni (scenario: test/chaos/patroniCluster.ts).
 * Each run: a writer INSERTs continuously through HAProxy's leader port; the fault is injected; we
 * measure seconds from the fault to the first acknowledged write on the expected writer, and count
 * acknowledged writes missing on the leader afterwards. One cluster is reused across the runs of a
 * case: the old leader is rejoined (and waited for as the synchronous standby) between runs.
 *
 * - `postgres`: host crash, the leader's Patroni and postmaster (with its children) kill -9 together.
 * - `postgres_switchover`: planned, the leader's Patroni stopped cleanly (SIGTERM, what Swarm sends on a
 *   rolling update or node drain): it stops Postgres and releases the leader lock at once.
 * - `postgres_restart`: the leader's postmaster alone kill -9; Patroni restarts it in place.
 */
import { PatroniCluster, PgMember, WriteRecord } from "../../test/chaos/patroniCluster";
import { waitFor } from "../../test/chaos/support";
import { BenchCase, CaseResult, summarise } from "../types";

type Fault = "crash" | "switchover" | "restart";

const NOTES: Record<Fault, string> = {
    crash: "host crash: kill -9 of the leader's Patroni and postmaster (and its children) together; writes through HAProxy, one psql per INSERT; the old leader is restarted and rejoins (pg_rewind) between runs",
    switchover: "planned: the leader's Patroni stopped cleanly (SIGTERM, as Swarm does on an update or drain), not patronictl; writes through HAProxy; the stopped member is restarted and rejoins between runs",
    restart: "postmaster alone kill -9; Patroni restarts it in place on the same member (no failover); writes through HAProxy",
};

async function oneRun(c: PatroniCluster, fault: Fault): Promise<{ seconds: number; lost: number }> {
    const leader = await waitFor("a leader", () => c.leader(), { timeoutMs: 60_000, intervalMs: 250 });
    const replica = c.members.find((m) => m !== leader) as PgMember;
    await c.waitSyncReplica(replica, 120_000);
    const from = c.writes.length;
    c.startWriter();
    try {
        await waitFor("10 acknowledged writes before the fault", () => c.writes.slice(from).filter((w) => w.ok).length >= 10, { timeoutMs: 30_000 });
        let tFault: number;
        let first: WriteRecord;
        if (fault === "crash") {
            tFault = c.crashHost(leader);
            first = await c.waitAckFrom(replica.pgPort, tFault, 90_000);
        } else if (fault === "switchover") {
            tFault = c.stopMemberCleanly(leader).t;
            first = await c.waitAckFrom(replica.pgPort, tFault, 60_000);
        } else {
            tFault = c.killPostmaster(leader);
            // The outage starts with the first failed write after the kill; the first success after it ends it.
            const failure = await waitFor("a failed write after the kill", () => c.writes.find((w) => !w.ok && w.t > tFault) ?? false, { timeoutMs: 15_000, intervalMs: 20 }).catch(() => undefined);
            first = await c.waitAckFrom(leader.pgPort, failure?.t ?? tFault, 60_000);
        }
        await waitFor("5 more acknowledged writes", () => c.writes.filter((w) => w.ok && w.t > first.t).length >= 5, { timeoutMs: 20_000 });
        await c.stopWriter();
        const lost = (await c.lostWrites(from)).length;
        if (fault !== "restart") {
            await c.waitDown(leader);
            c.startMember(leader);
            await c.waitSyncReplica(leader, 120_000);
        }
        return { seconds: (first.t - tFault) / 1000, lost };
    } finally {
        await c.stopWriter();
    }
}

async function runCase(fault: Fault, runs: number): Promise<CaseResult> {
    const c = await PatroniCluster.start();
    try {
        const samples: number[] = [];
        let lost = 0;
        for (let i = 0; i < runs; i++) {
            const r = await oneRun(c, fault);
            samples.push(r.seconds);
            lost += r.lost;
        }
        if (fault === "restart") return summarise(samples, lost, { notes: NOTES[fault] });
        // The old leader was restarted after every run: it must have rejoined, never as a second primary.
        const twoPrimaries = [...(await c.recoveryStates()).values()].filter((s) => s === false).length > 1;
        return summarise(samples, lost, { notes: NOTES[fault], two_primaries_after_restart: twoPrimaries });
    } finally {
        await c.stop();
    }
}

/** Host crash: Patroni + postmaster kill -9 together on the leader. Expected about ttl (20 s). */
export const postgres: BenchCase = (runs) => runCase("crash", runs);

/** Planned: the leader's Patroni stopped cleanly (SIGTERM). Expected about loop_wait (2 s) plus HAProxy's check. */
export const postgres_switchover: BenchCase = (runs) => runCase("switchover", runs);

/** Postmaster alone kill -9: Patroni restarts it in place. Expected within a few seconds. */
export const postgres_restart: BenchCase = (runs) => runCase("restart", runs);
