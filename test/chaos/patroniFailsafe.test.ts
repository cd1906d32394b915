/**
 * Chaos test (issue 12 item 3): Patroni's DCS failsafe mode, which the program enables (`failsafe_mode: true`,
 * renderers/patroniDcs.ts), proved with the real daemons: three Patroni 4.0.7 members (as the postgres user) with the
 * rendered settings, a real 3-member etcd, Postgres 15 and HAProxy on loopback, writes through HAProxy.
 *
 * The whole etcd cluster stops (every member, by PID) while the leader and both replicas are up, for more than two
 * ttl: the leader keeps its primary role and keeps acknowledging writes through HAProxy (Patroni reports
 * `failsafe_mode_is_active`: every member answered its POST /failsafe), no member is demoted or promoted (same
 * leader, same postmaster, same timeline). Then etcd returns: the leader holds the lock again, the replicas stream
 * (one synchronous), failsafe is off, and no acknowledged write is missing.
 *
 * The control: the same outage with `failsafe_mode: false` (PATCH /config) demotes the leader and writes stop, which
 * is what the first test would see on a program without failsafe mode.
 *
 * Ports: patroniCluster.ts's (OCHAOS_PG_PORT_OFFSET shifts them). Run (as root):
 *   node --import tsx --test test/chaos/patroniFailsafe.test.ts
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { PATRONI_DEFAULTS } from "../../renderers/patroni";
import { httpJson, httpStatus, PatroniCluster, PgMember, postmasterPid, WriteRecord } from "./patroniCluster";
import { sleep, stopDaemon, waitFor } from "./support";

/** How long etcd stays down: more than two ttl, so the leader key would have expired twice over. */
const OUTAGE_MS = (2 * PATRONI_DEFAULTS.ttl + 5) * 1000;

/** Patroni's own view of a member (REST API GET /patroni). */
interface PatroniStatus {
    readonly role?: string;
    readonly state?: string;
    readonly timeline?: number;
    readonly failsafe_mode_is_active?: boolean;
}

const status = (m: PgMember) => httpJson(m.apiPort, "/patroni") as Promise<PatroniStatus>;
const logOf = (c: PatroniCluster, m: PgMember) => fs.readFileSync(path.join(c.dir, `${m.name}.log`), "utf8");

/** The longest stretch (ms) without an acknowledged write between `from` and `to`, and the failed attempts in it. */
function writeGaps(writes: readonly WriteRecord[], from: number, to: number): { maxGapMs: number; acked: number; failed: number } {
    const inWindow = writes.filter((w) => w.t >= from && w.t <= to);
    const ackedAt = [from, ...inWindow.filter((w) => w.ok).map((w) => w.t), to];
    let maxGapMs = 0;
    for (let i = 1; i < ackedAt.length; i++) maxGapMs = Math.max(maxGapMs, ackedAt[i] - ackedAt[i - 1]);
    return { maxGapMs, acked: inWindow.filter((w) => w.ok).length, failed: inWindow.filter((w) => !w.ok).length };
}

/** Stops every etcd member of the cluster (SIGTERM by PID, SIGKILL after 5 s) and waits until all have exited. */
async function stopEtcd(c: PatroniCluster): Promise<void> {
    await Promise.all(c.etcd.map((d) => stopDaemon(d)));
    assert.ok(c.etcd.every((d) => d.exited()), "every etcd member has exited");
}

describe("postgres: Patroni failsafe mode while the whole etcd cluster is down", { timeout: 600_000 }, () => {
    let c: PatroniCluster | undefined;
    let leader: PgMember;
    let before0: { postmaster: number | undefined; postmasters: Map<string, number | undefined>; timeline: number | undefined };

    before(async () => {
        c = await PatroniCluster.start({ members: 3 });
    });

    after(async () => {
        if (c) await c.stop();
    });

    it("runs with failsafe_mode on, and the leader has published every member in the /failsafe key", async () => {
        const cfg = await c!.configFromApi(c!.members[0]);
        assert.equal(cfg.failsafe_mode, true, "the rendered bootstrap.dcs enables failsafe_mode");
        leader = await c!.waitLeader();
        for (const m of c!.members.filter((x) => x !== leader)) await c!.waitStreaming(m, 60_000);
        // The leader writes /failsafe (name -> REST API URL of every member) with its lock; a member missing from it
        // would make the leader give up failsafe. Wait for all three (the third joins last).
        const names = c!.members.map((m) => m.name).sort();
        const failsafe = await waitFor("the /failsafe key to list all three members", async () => {
            const f = (await httpJson(leader.apiPort, "/failsafe")) as Record<string, string>;
            return JSON.stringify(Object.keys(f).sort()) === JSON.stringify(names) ? f : undefined;
        }, { timeoutMs: 30_000, intervalMs: 500 });
        assert.deepEqual(Object.keys(failsafe).sort(), names);
        before0 = {
            postmaster: postmasterPid(leader.dataDir),
            postmasters: new Map(c!.members.map((m) => [m.name, postmasterPid(m.dataDir)])),
            timeline: (await status(leader)).timeline,
        };
        assert.ok(before0.postmaster, "the leader's postmaster runs");
    });

    it(`with all three etcd members stopped for ${OUTAGE_MS / 1000} s, the leader stays primary and keeps acknowledging writes; nobody is demoted`, async () => {
        c!.startWriter();
        await waitFor("10 acknowledged writes before the outage", () => c!.writes.filter((w) => w.ok).length >= 10, { timeoutMs: 30_000 });
        const tStop = Date.now();
        await stopEtcd(c!);
        // Failsafe engages once the leader's DCS retries run out (retry_timeout) and every member answered POST /failsafe.
        const engaged = await waitFor("the leader to report failsafe_mode_is_active", async () => ((await status(leader)).failsafe_mode_is_active ? Date.now() : undefined),
            { timeoutMs: 30_000, intervalMs: 500 });
        const roleSamples: string[] = [];
        let retriedSamples = 0;
        while (Date.now() - tStop < OUTAGE_MS) {
            // Leader and replicas as Postgres and HAProxy see them, every 2 s of the outage. A member that does not
            // answer within psql's 3 s (a loaded machine) is asked again, up to 3 times, before it counts as down.
            let states = await c!.recoveryStates();
            for (let i = 0; i < 3 && [...states.values()].includes(undefined); i++) {
                retriedSamples++;
                await sleep(1_000);
                states = await c!.recoveryStates();
            }
            roleSamples.push(c!.members.map((m) => `${m.name}=${states.get(m.name) === false ? "primary" : states.get(m.name) ? "replica" : "down"}`).join(","));
            // The leader's /primary: no answer within 3 s (0) is asked again the same way; any answer counts at once.
            let primary = await httpStatus(leader.apiPort, "/primary", 3_000);
            for (let i = 0; i < 3 && primary === 0; i++) {
                retriedSamples++;
                await sleep(1_000);
                primary = await httpStatus(leader.apiPort, "/primary", 3_000);
            }
            assert.equal(primary, 200, "HAProxy's check of the leader (/primary) keeps answering 200");
            await sleep(2_000);
        }
        const tEnd = Date.now();
        const w = writeGaps(c!.writes, tStop, tEnd);
        console.log(`# failsafe: engaged ${((engaged - tStop) / 1000).toFixed(1)} s after etcd stopped; ${w.acked} writes acknowledged in ${((tEnd - tStop) / 1000).toFixed(0)} s of outage, ` +
            `${w.failed} failed, longest stretch without an acknowledged write ${(w.maxGapMs / 1000).toFixed(2)} s; ${roleSamples.length} role samples (${retriedSamples} re-asked)`);
        const st = await status(leader);
        assert.equal(st.role, "primary");
        assert.equal(st.failsafe_mode_is_active, true, "still in failsafe at the end of the outage");
        const expected = c!.members.map((m) => `${m.name}=${m === leader ? "primary" : "replica"}`).join(",");
        assert.deepEqual([...new Set(roleSamples)], [expected], "the same leader and replicas throughout the outage");
        assert.equal(postmasterPid(leader.dataDir), before0.postmaster, "the leader's postmaster was never restarted (a demotion restarts it)");
        for (const m of c!.members) assert.equal(postmasterPid(m.dataDir), before0.postmasters.get(m.name), `${m.name}'s postmaster was never restarted`);
        assert.equal(st.timeline, before0.timeline, "same timeline: no promotion happened");
        // Without failsafe every write fails from the demotion (about retry_timeout after etcd stopped) to the end of the
        // outage; with it writes go on. The bounds leave room for a psql that times out (3 s) on a loaded machine.
        assert.ok(w.maxGapMs < 10_000, `writes kept being acknowledged (longest gap ${w.maxGapMs} ms)`);
        assert.ok(w.failed <= Math.ceil(0.05 * (w.acked + w.failed)), `${w.failed} of ${w.acked + w.failed} writes through HAProxy failed during the etcd outage`);
        assert.ok(c!.writes.filter((x) => x.ok && x.t > engaged).every((x) => x.port === leader.pgPort), "every write after failsafe engaged was committed by the leader");
        for (const m of c!.members) {
            assert.doesNotMatch(logOf(c!, m), /demoting self|demoted self/, `${m.name} never demoted itself`);
        }
        assert.match(logOf(c!, leader), /continue to run as a leader because failsafe mode is enabled and all members are accessible/);
    });

    it("etcd returns: the same leader holds the lock again, the replicas stream (one synchronous), failsafe is off, no acknowledged write is missing", async () => {
        await c!.startEtcd();
        const tBack = Date.now();
        const roles = await waitFor("the DCS to name the leader and a synchronous standby again", async () => {
            const r = await c!.clusterRoles();
            return r.get(leader.name) === "leader" && [...r.values()].filter((x) => x === "sync_standby").length === 1 ? r : undefined;
        }, { timeoutMs: 90_000, intervalMs: 500 });
        assert.equal([...roles.values()].filter((x) => x === "leader").length, 1);
        await waitFor("failsafe to switch off on the leader", async () => (await status(leader)).failsafe_mode_is_active !== true, { timeoutMs: 30_000, intervalMs: 500 });
        for (const m of c!.members.filter((x) => x !== leader)) assert.equal(await c!.waitStreaming(m, 60_000), leader);
        await waitFor("10 acknowledged writes after etcd returned", () => c!.writes.filter((w) => w.ok && w.t > tBack).length >= 10, { timeoutMs: 30_000 });
        await c!.stopWriter();
        assert.equal(postmasterPid(leader.dataDir), before0.postmaster, "still the same postmaster");
        assert.equal((await status(leader)).timeline, before0.timeline, "still the same timeline");
        const lost = await c!.lostWrites(0);
        assert.deepEqual(lost, [], `acknowledged writes missing: ${lost.join(",")}`);
    });

    it("control: the same outage with failsafe_mode off demotes the leader and writes stop (what the first test catches)", async () => {
        const patched = await fetch(`http://127.0.0.1:${leader.apiPort}/config`, { method: "PATCH", body: JSON.stringify({ failsafe_mode: false }), signal: AbortSignal.timeout(5_000) });
        assert.equal(patched.status, 200, await patched.text());
        // Every member applies the dynamic configuration on its next HA loop.
        for (const m of c!.members) {
            await waitFor(`${m.name} to run with failsafe_mode off`, async () => (await c!.configFromApi(m)).failsafe_mode === false, { timeoutMs: 20_000, intervalMs: 500 });
        }
        await sleep(2 * PATRONI_DEFAULTS.loopWait * 1000);
        const from = c!.writes.length;
        c!.startWriter();
        await waitFor("5 acknowledged writes before the outage", () => c!.writes.slice(from).filter((w) => w.ok).length >= 5, { timeoutMs: 30_000 });
        await stopEtcd(c!);
        await waitFor("the leader to demote itself", () => /demoting self because DCS is not accessible and I was a leader/.test(logOf(c!, leader)), { timeoutMs: 60_000, intervalMs: 500 });
        await waitFor("HAProxy's check of the old leader (/primary) to fail", async () => (await httpStatus(leader.apiPort, "/primary")) !== 200, { timeoutMs: 30_000, intervalMs: 500 });
        const tDemoted = Date.now();
        await sleep(5_000);
        await c!.stopWriter();
        const after5s = c!.writes.filter((w) => w.t > tDemoted + 2_000);
        assert.ok(after5s.length > 0 && after5s.every((w) => !w.ok), `no write is acknowledged once the leader demoted (${after5s.filter((w) => w.ok).length}/${after5s.length})`);
        // Leave the cluster as it was: etcd back, failsafe on again (stop() tears everything down anyway).
        await c!.startEtcd();
        const l = await waitFor("a leader after etcd returned", () => c!.leader(), { timeoutMs: 120_000, intervalMs: 1_000 });
        const restored = await fetch(`http://127.0.0.1:${l.apiPort}/config`, { method: "PATCH", body: JSON.stringify({ failsafe_mode: true }), signal: AbortSignal.timeout(5_000) });
        assert.equal(restored.status, 200);
        const lost = await c!.lostWrites(0);
        assert.deepEqual(lost, [], `acknowledged writes missing: ${lost.join(",")}`);
    });
});
