/**
 * Failover benchmark cases for Postgres via Patroni (scenario: test/chaos/patroniCluster.ts).
 * Each run: a writer INSERTs continuously through HAProxy's leader port; the fault is injected; we
 * measure seconds from the fault to the first acknowledged write on the expected writer, and count
 * acknowledged writes missing on the leader afterwards. One cluster is reused across the runs of a
 * case: the old leader is rejoined (and waited for as the synchronous standby) between runs.
 *
 * - `postgres`: host crash, the leader's Patroni and postmaster (with its children) kill -9 together.
 * - `postgres_switchover`: planned, the leader's Patroni stopped as Swarm stops it on a rolling update or
 *   node drain (SIGTERM to Patroni, SIGKILL only after stop_grace_period): it stops Postgres, waits for the
 *   synchronous replica (Patroni 4), and releases the leader lock.
 * - `postgres_restart`: the leader's postmaster alone kill -9; Patroni restarts it in place. Prints where the
 *   seconds go (from the member's log): Patroni notices, Patroni spawns the postmaster, Postgres has recovered,
 *   the first write through HAProxy is acknowledged.
 *
 * Runs Patroni 4.0.7 (what Spilo 4.0 runs); OCHAOS_PATRONI=3.0.2 runs Debian 12's.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PATRONI_VERSION, PatroniCluster, PgMember, WriteRecord } from "../../test/chaos/patroniCluster";
import { waitFor } from "../../test/chaos/support";
import { BenchCase, CaseResult, median, summarise } from "../types";

type Fault = "crash" | "switchover" | "restart";

const NOTES: Record<Fault, string> = {
    crash: "host crash: kill -9 of the leader's Patroni and postmaster (and its children) together; writes through HAProxy, one psql per INSERT; the old leader is restarted and rejoins (pg_rewind) between runs",
    switchover: "planned: the leader's Patroni stopped as Swarm does on an update or drain (SIGTERM to Patroni, SIGKILL only after the 60 s stop_grace_period), not patronictl; writes through HAProxy; the stopped member is restarted and rejoins between runs",
    restart: "postmaster alone kill -9; Patroni restarts it in place on the same member (no failover); writes through HAProxy",
};

/** Phase -> ms after the kill at which it ended (postmaster restart), from Patroni's and Postgres's own log lines. */
type Phases = Partial<Record<"patroni_notices" | "patroni_spawns_postmaster" | "postgres_ready" | "first_write", number>>;

/** ms epoch of a Patroni ("2026-01-01 00:00:00,123") or Postgres ("2026-01-01 00:00:00.123 UTC") log line. */
function lineTime(line: string): number | undefined {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)[,.](\d{3})/.exec(line);
    return m ? Date.parse(`${m[1]}T${m[2]}.${m[3]}Z`) : undefined;
}

/**
 * Where a postmaster restart's seconds go, read from the member's log (Patroni and Postgres write to it,
 * both in UTC) and HAProxy's: Patroni notices ("Postgresql is not running", bounded by loop_wait), Patroni
 * spawns the postmaster, Postgres finishes crash recovery ("ready to accept connections"). HAProxy is not a
 * phase: Patroni 4's /primary keeps answering 200 while it restarts Postgres, so HAProxy never marks the
 * leader down (the case's notes count how often it did).
 */
function restartPhases(c: PatroniCluster, leader: PgMember, tKill: number): Phases {
    const after = (file: string) => {
        const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        return text.split("\n").map((l) => ({ l, t: lineTime(l) })).filter((x) => x.t !== undefined && x.t >= tKill) as { l: string; t: number }[];
    };
    const member = after(path.join(c.dir, `${leader.name}.log`));
    const first = (re: RegExp, from = tKill) => member.find((x) => x.t >= from && re.test(x.l))?.t;
    const p: Phases = {};
    const noticed = first(/Postgresql is not running|postmaster is not running/i);
    if (noticed !== undefined) p.patroni_notices = noticed - tKill;
    const spawned = first(/INFO: postmaster pid=/, noticed ?? tKill);
    if (spawned !== undefined) p.patroni_spawns_postmaster = spawned - tKill;
    const ready = first(/database system is ready to accept connections/, spawned ?? tKill);
    if (ready !== undefined) p.postgres_ready = ready - tKill;
    return p;
}

async function oneRun(c: PatroniCluster, fault: Fault): Promise<{ seconds: number; lost: number; phases?: Phases }> {
    const leader = await c.waitLeader(60_000);
    const replica = c.members.find((m) => m !== leader) as PgMember;
    await c.waitSyncReplica(replica, 120_000);
    const from = c.writes.length;
    c.startWriter();
    try {
        await waitFor("10 acknowledged writes before the fault", () => c.writes.slice(from).filter((w) => w.ok).length >= 10, { timeoutMs: 30_000 });
        let tFault: number;
        let first: WriteRecord;
        let phases: Phases | undefined;
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
            phases = { ...restartPhases(c, leader, tFault), first_write: first.t - tFault };
        }
        await waitFor("5 more acknowledged writes", () => c.writes.filter((w) => w.ok && w.t > first.t).length >= 5, { timeoutMs: 20_000 });
        await c.stopWriter();
        const lost = (await c.lostWrites(from)).length;
        if (fault !== "restart") {
            await c.waitDown(leader);
            c.startMember(leader);
            await c.waitSyncReplica(leader, 120_000);
        }
        return { seconds: (first.t - tFault) / 1000, lost, phases };
    } finally {
        await c.stopWriter();
    }
}

async function runCase(fault: Fault, runs: number): Promise<CaseResult> {
    const c = await PatroniCluster.start();
    try {
        const samples: number[] = [];
        const phases: NonNullable<Awaited<ReturnType<typeof oneRun>>["phases"]>[] = [];
        let lost = 0;
        for (let i = 0; i < runs; i++) {
            const r = await oneRun(c, fault);
            samples.push(r.seconds);
            lost += r.lost;
            if (r.phases) phases.push(r.phases);
        }
        const notes = `${NOTES[fault]}; Patroni ${PATRONI_VERSION}`;
        if (fault === "restart") {
            const keys = ["patroni_notices", "patroni_spawns_postmaster", "postgres_ready", "first_write"] as const;
            const phases_s: Record<string, number> = {};
            for (const k of keys) {
                const xs = phases.map((p) => p[k]).filter((x): x is number => x !== undefined);
                if (xs.length > 0) phases_s[k] = median(xs.map((x) => x / 1000));
            }
            const haLog = path.join(c.dir, "haproxy.log");
            // The leader stays the same member in this case; the replica is marked down once when HAProxy starts.
            const leaderName = (await c.leader())?.name ?? "";
            const downs = (fs.existsSync(haLog) ? fs.readFileSync(haLog, "utf8") : "").split("\n").filter((l) => l.includes(`Server primary/${leaderName} is DOWN`)).length;
            return summarise(samples, lost, { notes: `${notes}; HAProxy marked the leader down ${downs} time(s)`, phases_s });
        }
        // The old leader was restarted after every run: it must have rejoined, never as a second primary.
        const twoPrimaries = [...(await c.recoveryStates()).values()].filter((s) => s === false).length > 1;
        return summarise(samples, lost, { notes, two_primaries_after_restart: twoPrimaries });
    } finally {
        await c.stop();
    }
}

/** Host crash: Patroni + postmaster kill -9 together on the leader. Expected about ttl (20 s). */
export const postgres: BenchCase = (runs) => runCase("crash", runs);

/** Planned: the leader's Patroni stopped cleanly (SIGTERM). Patroni 4 first waits for the synchronous replica, then releases the lock; plus one loop_wait and HAProxy's check. */
export const postgres_switchover: BenchCase = (runs) => runCase("switchover", runs);

/** Postmaster alone kill -9: Patroni restarts it in place. Expected within a few seconds. */
export const postgres_restart: BenchCase = (runs) => runCase("restart", runs);
