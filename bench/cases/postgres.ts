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
 *   seconds go: Patroni notices, Postgres accepts again, Patroni's /primary answers 200, HAProxy marks it up.
 *
 * Runs Patroni 4.0.7 (what Spilo 4.0 runs); OCHAOS_PATRONI=3.0.2 runs Debian 12's.
 */
import * as http from "node:http";
import { httpJson, httpStatus, PATRONI_VERSION, PatroniCluster, PgMember, PORTS, WriteRecord } from "../../test/chaos/patroniCluster";
import { sleep, waitFor } from "../../test/chaos/support";
import { BenchCase, CaseResult, median, summarise } from "../types";

type Fault = "crash" | "switchover" | "restart";

const NOTES: Record<Fault, string> = {
    crash: "host crash: kill -9 of the leader's Patroni and postmaster (and its children) together; writes through HAProxy, one psql per INSERT; the old leader is restarted and rejoins (pg_rewind) between runs",
    switchover: "planned: the leader's Patroni stopped as Swarm does on an update or drain (SIGTERM to Patroni, SIGKILL only after the 60 s stop_grace_period), not patronictl; writes through HAProxy; the stopped member is restarted and rejoins between runs",
    restart: "postmaster alone kill -9; Patroni restarts it in place on the same member (no failover); writes through HAProxy",
};

/** GET http://127.0.0.1:port/path as text ("" when unreachable). */
function httpText(port: number, urlPath: string, timeoutMs = 1000): Promise<string> {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: urlPath, timeout: timeoutMs }, (res) => {
            let body = "";
            res.on("data", (d) => (body += String(d)));
            res.on("end", () => resolve(body));
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(""));
    });
}

/** Phase -> ms after the kill at which it ended (postmaster restart). */
type Phases = Partial<Record<"patroni_notices" | "postgres_accepts" | "patroni_primary_200" | "haproxy_up", number>>;

/**
 * Watches a postmaster restart from the outside, every 50 ms, until HAProxy routes to it again (at most 30 s):
 * when Patroni's state leaves "running" (it noticed), when Postgres accepts a query again, when Patroni's
 * /primary answers 200 again, and when HAProxy's stats show the server UP again after it went DOWN.
 */
async function watchRestart(c: PatroniCluster, leader: PgMember, tKill: number): Promise<Phases> {
    const p: Phases = {};
    const at = () => Date.now() - tKill;
    let haproxyWentDown = false;
    let primaryFailed = false;
    const deadline = tKill + 30_000;
    const apiLoop = (async () => {
        while (Date.now() < deadline && (p.patroni_primary_200 === undefined || p.haproxy_up === undefined)) {
            const [state, primary, stats] = await Promise.all([
                httpJson(leader.apiPort, "/patroni", 500).then((b) => (b as { state?: string }).state, () => undefined),
                httpStatus(leader.apiPort, "/primary", 500),
                httpText(PORTS.haStats, "/stats;csv", 500),
            ]);
            if (p.patroni_notices === undefined && state !== undefined && state !== "running") p.patroni_notices = at();
            if (primary !== 200) primaryFailed = true;
            else if (primaryFailed && p.patroni_primary_200 === undefined) p.patroni_primary_200 = at();
            const row = stats.split("\n").find((l) => l.startsWith(`primary,${leader.name},`));
            const status = row?.split(",")[17] ?? "";
            if (row && !status.startsWith("UP")) haproxyWentDown = true;
            else if (row && haproxyWentDown && p.haproxy_up === undefined) p.haproxy_up = at();
            await sleep(50);
        }
    })();
    const pgLoop = (async () => {
        while (Date.now() < deadline && p.postgres_accepts === undefined) {
            const r = await c.sql(leader.pgPort, "SELECT 1", 1000);
            if (r.code === 0 && p.patroni_notices !== undefined) p.postgres_accepts = at();
            await sleep(50);
        }
    })();
    await Promise.all([apiLoop, pgLoop]);
    return p;
}

async function oneRun(c: PatroniCluster, fault: Fault): Promise<{ seconds: number; lost: number; phases?: Phases & { first_write?: number } }> {
    const leader = await waitFor("a leader", () => c.leader(), { timeoutMs: 60_000, intervalMs: 250 });
    const replica = c.members.find((m) => m !== leader) as PgMember;
    await c.waitSyncReplica(replica, 120_000);
    const from = c.writes.length;
    c.startWriter();
    try {
        await waitFor("10 acknowledged writes before the fault", () => c.writes.slice(from).filter((w) => w.ok).length >= 10, { timeoutMs: 30_000 });
        let tFault: number;
        let first: WriteRecord;
        let phases: (Phases & { first_write?: number }) | undefined;
        if (fault === "crash") {
            tFault = c.crashHost(leader);
            first = await c.waitAckFrom(replica.pgPort, tFault, 90_000);
        } else if (fault === "switchover") {
            tFault = c.stopMemberCleanly(leader).t;
            first = await c.waitAckFrom(replica.pgPort, tFault, 60_000);
        } else {
            tFault = c.killPostmaster(leader);
            const watching = watchRestart(c, leader, tFault);
            // The outage starts with the first failed write after the kill; the first success after it ends it.
            const failure = await waitFor("a failed write after the kill", () => c.writes.find((w) => !w.ok && w.t > tFault) ?? false, { timeoutMs: 15_000, intervalMs: 20 }).catch(() => undefined);
            first = await c.waitAckFrom(leader.pgPort, failure?.t ?? tFault, 60_000);
            phases = { ...(await watching), first_write: first.t - tFault };
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
            const keys = ["patroni_notices", "postgres_accepts", "patroni_primary_200", "haproxy_up", "first_write"] as const;
            const phases_s: Record<string, number> = {};
            for (const k of keys) {
                const xs = phases.map((p) => p[k]).filter((x): x is number => x !== undefined);
                if (xs.length > 0) phases_s[k] = median(xs.map((x) => x / 1000));
            }
            return summarise(samples, lost, { notes, phases_s });
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

/** Planned: the leader's Patroni stopped cleanly (SIGTERM). Expected about loop_wait (2 s) plus HAProxy's check. */
export const postgres_switchover: BenchCase = (runs) => runCase("switchover", runs);

/** Postmaster alone kill -9: Patroni restarts it in place. Expected within a few seconds. */
export const postgres_restart: BenchCase = (runs) => runCase("restart", runs);
