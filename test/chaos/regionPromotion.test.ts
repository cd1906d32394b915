/**
 * Chaos test: region promotion with the whole primary region dead (issue 10), one run of each bench case
 * (bench/cases/regionPromotion.ts, bench/cases/regionRedisPromotion.ts), real daemons on loopback.
 *
 * The loss rule: the standby region replicates asynchronously, so what it may lose is bounded by the replication lag
 * at the kill. The scenario reads, right before the kill, the highest acknowledged id the standby had replayed
 * (Postgres) or the acknowledged writes so far and the replication offsets (Redis): every write acknowledged up to
 * that probe must survive the promotion; only writes acknowledged after it (in the lag) may be missing, and for
 * Postgres the missing ones are the newest (no hole).
 *
 * Run (as root): node --import tsx --test test/chaos/regionPromotion.test.ts
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { regionPromotionRun, RegionRun } from "../../bench/cases/regionPromotion";
import { regionRedisRun, RedisRegionRun } from "../../bench/cases/regionRedisPromotion";

/** How long the restarted old region is watched here (the bench watches 40 s / 30 s). */
const OLD_WINDOW_MS = 40_000;

describe("region promotion: Postgres, the whole primary region killed", { timeout: 600_000 }, () => {
    let r: RegionRun;
    before(async () => {
        r = await regionPromotionRun(OLD_WINDOW_MS);
        console.log(`# region_promotion: ${r.seconds.toFixed(2)} s to the first write, lag at kill ${r.lag.bytes} B, ${r.lost.length}/${r.acknowledged} lost, ` +
            `${r.steadyWrites} writes in the next 6 s (${r.failedAfterFirst} failed); old region: ${r.old.writesAccepted}/${r.old.attempts} writes accepted (${r.old.roles.join(", ")})`);
    });

    it("the promotion sent exactly PATCH {standby_cluster: null} and the standby region takes writes through its router, steadily", () => {
        assert.deepEqual(r.body, { standby_cluster: null });
        assert.ok(r.seconds < 60, `${r.seconds} s to the first write`);
        assert.equal(r.failedAfterFirst, 0, "the router keeps routing to the promoted leader (leader check /leader)");
        assert.ok(r.steadyWrites >= 3, `${r.steadyWrites} writes after the first`);
    });

    it("no acknowledged write is lost beyond the replication lag at the kill", () => {
        assert.ok(r.acknowledged >= 20);
        const tooOld = r.lost.filter((id) => id <= r.lag.standbyMaxId);
        assert.deepEqual(tooOld, [], `writes the standby had replayed before the kill are missing: ${tooOld.join(", ")}`);
        assert.ok(r.lost.length <= r.ackedAfterProbe.length, `${r.lost.length} lost, ${r.ackedAfterProbe.length} acknowledged after the lag probe`);
        if (r.lost.length > 0) assert.ok(Math.min(...r.lost) > Math.max(...r.ackedAfterProbe.filter((id) => !r.lost.includes(id)), r.lag.standbyMaxId), "only the newest writes may be missing");
    });

    it("the promoted region stays the primary while the old region runs again", () => {
        assert.equal(r.old.promotedStillPrimary, true);
    });

    it("the old primary region, restarted as it was, takes no writes", () => {
        assert.equal(r.old.writesAccepted, 0, `${r.old.writesAccepted}/${r.old.attempts} writes accepted; roles ${r.old.roles.join(", ")}`);
    });

    it("every old-region member stays down with a log line naming the fence and the runbook", () => {
        r.old.fenced.forEach((lines, i) => {
            assert.ok(lines.length >= 1, `old-region member ${i + 1} logged no FENCED line`);
            assert.match(lines[0], /FENCED: region us-west-2 is the primary since fence epoch 1 .*region-fence\.txt.*rebuild us-east-1 as a standby of us-west-2.*Region promotion/);
        });
    });
});

describe("region promotion: Redis, the whole primary region killed", { timeout: 300_000 }, () => {
    let r: RedisRegionRun;
    before(async () => {
        r = await regionRedisRun(30_000);
        console.log(`# region_redis_promotion: ${(r.seconds * 1000).toFixed(1)} ms to the first SET, lag at kill ${r.lagBytes} B, ${r.lost.length}/${r.acknowledged} keys lost; ` +
            `after the role-primary restart ${r.roleAfterRedeploy} with ${r.keysAfterRedeploy} keys; old region ${r.old.writesAccepted}/${r.old.attempts} SETs accepted, promoted node ${r.old.promotedRole}`);
    });

    it("the standby's replica takes writes after REPLICAOF NO ONE + CONFIG REWRITE, within seconds", () => {
        assert.ok(r.seconds < 10, `${r.seconds} s`);
    });

    it("no acknowledged key is lost beyond the replication lag at the kill", () => {
        assert.ok(r.acknowledged >= 200);
        assert.ok(r.lost.length <= r.ackedAfterProbe, `${r.lost.length} keys lost, ${r.ackedAfterProbe} acknowledged after the lag probe (lag ${r.lagBytes} B)`);
        if (r.lagBytes === 0) assert.ok(r.lost.every((a) => a.seq >= r.acknowledged - r.ackedAfterProbe), "with no lag at the probe, only later writes may be missing");
    });

    it("stays the master, with its data, across the restart pulumi up gives it with the role-primary config (CONFIG REWRITE dropped replicaof)", () => {
        assert.equal(r.roleAfterRedeploy, "master");
        assert.ok(r.keysAfterRedeploy >= r.acknowledged - r.lost.length, `${r.keysAfterRedeploy} keys after the restart`);
    });

    it("the old primary region, restarted as it was, takes no writes and leaves the promoted master alone", () => {
        assert.equal(r.old.writesAccepted, 0, `${r.old.writesAccepted}/${r.old.attempts} SETs accepted by the old region`);
        assert.equal(r.old.promotedRole, "master", "the old region's sentinels demoted the promoted node");
    });

    it("every old-region node and sentinel stays down with a log line naming the fence and the runbook", () => {
        r.old.fenced.forEach((lines, i) => {
            assert.ok(lines.length >= 1, `old-region daemon ${i} logged no FENCED line`);
            assert.match(lines[0], /FENCED: region us-west-2 is the primary since fence epoch 1 .*region-fence\.txt.*rebuild us-east-1 as a standby of us-west-2.*Region promotion/);
        });
    });
});
