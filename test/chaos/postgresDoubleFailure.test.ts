/**
 * Chaos test (issue 10): three Patroni members with the rendered settings (synchronous_mode on,
 * synchronous_node_count 1, not strict), real etcd, Patroni 4.0.7, Postgres and HAProxy on loopback, writes
 * through HAProxy. Two members fail; no acknowledged write may be lost, and a leader is elected exactly when
 * Patroni's /sync key allows it:
 *
 * - the leader's host crashes, then the new leader's host 5 s after its promotion: the new leader has made the third
 *   member its synchronous standby by then, so the third is promoted and takes writes alone;
 * - the leader's and the synchronous standby's hosts crash together: the third member was asynchronous and may lack
 *   acknowledged commits, so it is never promoted; writes resume when the synchronous standby returns.
 *
 * Asserts behaviour only; timings are the benchmark's (bench case postgres_double_failure).
 * Run (as root): node --import tsx --test test/chaos/postgresDoubleFailure.test.ts
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sequentialDoubleFailure, simultaneousDoubleFailure } from "./doubleFailure";
import { PatroniCluster } from "./patroniCluster";

describe("postgres: a double failure of three Patroni members", { timeout: 900_000 }, () => {
    let c: PatroniCluster | undefined;

    before(async () => {
        c = await PatroniCluster.start({ members: 3 });
    });

    after(async () => {
        if (c) await c.stop();
    });

    it("runs the rendered synchronous settings: one synchronous standby, not strict", async () => {
        const cfg = await c!.configFromApi(c!.members[0]);
        assert.equal(cfg.synchronous_mode, true);
        assert.equal(cfg.synchronous_node_count, 1);
        assert.equal(cfg.synchronous_mode_strict, false);
    });

    it("leader, then the new leader 5 s after its promotion: the third member is promoted, takes writes, nothing acknowledged is lost", async () => {
        const r = await sequentialDoubleFailure(c!, 5_000);
        assert.equal(r.promoted, r.roles.sync, "only the synchronous standby is promoted after the first crash");
        assert.ok(r.thirdSyncS !== undefined, "the new leader made the third member its synchronous standby before the second crash");
        assert.ok(r.survivorWritesS !== undefined, "the third member, the new leader's synchronous standby, is promoted and takes writes");
        assert.ok(r.acked > 20, `writes flowed (${r.acked} acknowledged)`);
        assert.equal(r.lost, 0, "no acknowledged write lost");
        assert.equal(r.primariesAtEnd, 1, "one primary");
    });

    it("leader and synchronous standby at once: the asynchronous third is never promoted, writes resume when one returns, nothing is lost", async () => {
        // ttl 20 s + loop_wait 2 s: Patroni would have promoted the third member well within 35 s if /sync allowed it.
        const r = await simultaneousDoubleFailure(c!, c!.settings.ttl * 1000 + 15_000);
        assert.equal(r.promotedWhileAlone, 0, "the third member (not in /sync) never became primary");
        assert.equal(r.ackedWhileAlone, 0, "no write was acknowledged while only the third member was up");
        assert.equal(r.lost, 0, "no acknowledged write lost");
    });
});
