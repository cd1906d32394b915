/**
 * Chaos test: point-in-time restore and the full-site recovery drill, with real etcd, Patroni 4.0.7, Postgres 15,
 * HAProxy and Redis on loopback (test/chaos/fullSiteDrill.ts, which runs the PITR restore of
 * test/chaos/pitrCluster.ts as its database step). The restored cluster bootstraps through the Patroni section the
 * program renders for `restore` (Spilo's clone_with_wale, renderers/spiloRestore.ts), with a local directory as the
 * bucket. Asserts the row rule (every row acknowledged before the target present, none written after it), the table
 * dropped after the target back, the application role writing through HAProxy, Redis's keys back from the RDB copy
 * on the master and its replica, and prints the drill's time against the design's 15 minutes. Timings are the
 * bench's (`npm run drill:full-site`, BENCH_CASES=pitr_restore).
 *
 * Run (as root): node --import tsx --test test/chaos/pitrRestore.test.ts
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { DESIGN_RTO_S, DrillResult, runFullSiteDrill } from "./fullSiteDrill";

describe("point-in-time restore and full-site recovery, end to end", { timeout: 900_000 }, () => {
    let r: DrillResult;

    before(async () => {
        r = await runFullSiteDrill((l) => process.stdout.write(`# ${l}\n`));
        process.stdout.write(`# full-site drill: ${r.totalSeconds.toFixed(1)} s against the design document's ${DESIGN_RTO_S} s (15 minutes); database restored in ${r.pitr.seconds.toFixed(1)} s\n`);
    });

    it("wrote rows on both sides of the target (the test means something)", () => {
        assert.ok(r.pitr.rowsBefore >= 5, `only ${r.pitr.rowsBefore} rows before the target`);
        assert.ok(r.pitr.rowsAfter >= 5, `only ${r.pitr.rowsAfter} rows after the target`);
    });
    it("every row acknowledged before the target is in the restored cluster", () => assert.equal(r.pitr.rowsMissingBeforeTarget, 0));
    it("no row written after the target is in the restored cluster", () => assert.equal(r.pitr.rowsAfterTarget, 0));
    it("the table dropped after the target is back, with every row", () => assert.equal(r.pitr.preciousBack, true));
    it("Redis: every key of the RDB copy is on the restored master and on its replica", () => {
        assert.deepEqual(r.redisKeys, { written: 1000, master: 1000, replica: 1000 });
    });
    it("every health check passed (Patroni leader + streaming replica, application role write through HAProxy, Redis)", () => assert.equal(r.healthy, true));
});
