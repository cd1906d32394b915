/**
 * Chaos test (issue 10): three Patroni members with the rendered settings (synchronous_mode on,
 * synchronous_node_count 1, not strict), real etcd, Patroni 4.0.7, Postgres and HAProxy on loopback, writes
 * through HAProxy. Two members fail; no acknowledged write may be lost, and a leader is elected exactly when
 * Patroni's /sync key allows it:
 *
 * - the leader's host crashes, then the new leader's host once it has made the third member its synchronous standby
 *   (Patroni's /sync key names it): the third is promoted and takes writes alone. (The bench case kills the new
 *   leader 5 s after its promotion, as issue 10 asks; on a loaded machine that can come before the third is named, and
 *   then the second row below applies: the bench reports which happened in each run.)
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

    it("leader, then the new leader once the third member is its synchronous standby: the third is promoted, takes writes, nothing acknowledged is lost", async () => {
        const r = await sequentialDoubleFailure(c!, "third-synchronous");
        assert.equal(r.promoted, r.roles.sync, "only the synchronous standby is promoted after the first crash");
        assert.ok(r.thirdSyncAtKill, "Patroni's /sync key named the third member when the new leader died");
        assert.ok(r.survivorWritesS !== undefined, "the third member, the new leader's synchronous standby, is promoted and takes writes");
        assert.deepEqual(r.writers, [r.roles.leader.pgPort, r.roles.sync.pgPort, r.roles.third.pgPort], "writes were acknowledged by the leader, then the new leader, then the third member");
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
