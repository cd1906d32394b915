/**
 * The design document's own Postgres failover (two plain servers + the bash loop in scripts/postgres_failover.sh),
 * run against real PostgreSQL 15. These tests prove the claims the README makes about it (DESIGN.md, fix 2):
 * the loop does promote the standby eventually, replication is asynchronous despite `synchronous_commit=on`, and once
 * the orchestrator restarts the old primary there are two primaries accepting writes (split brain).
 * Timings are measured by bench/cases/baseline.ts, not asserted here.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BASELINE_PORTS, BaselineRunResult, runBaselineScenario } from "./baselineScript";
import { stopAll } from "./support";

describe("baseline: the design document's bash failover loop", () => {
    let r: BaselineRunResult | undefined;

    before(async () => {
        r = await runBaselineScenario();
    }, { timeout: 240_000 });

    after(async () => {
        await stopAll();
    });

    function result(): BaselineRunResult {
        assert.ok(r, "the scenario did not complete (see the error from before())");
        return r;
    }

    it("replicates asynchronously: synchronous_commit=on without synchronous_standby_names", () => {
        const { replication } = result();
        assert.equal(replication.synchronousCommit, "on");
        assert.equal(replication.synchronousStandbyNames, "");
        assert.equal(replication.syncState, "async");
    });

    it("promotes the standby after the primary's postmaster is SIGKILLed, then exits", () => {
        const x = result();
        assert.ok(x.ackedOnOldPrimary > 0, "the writer must have had writes acknowledged by the primary before the kill");
        assert.ok(x.ackedOnNewPrimary > 0, "the promoted standby must acknowledge writes");
        assert.match(x.scriptLog, /Primary health check failed\./);
        assert.match(x.scriptLog, /Promoting standby/);
        assert.match(x.scriptLog, /server promoted/);
        assert.equal(x.scriptExitCode, 0, "the document's loop exits after its one promotion");
        assert.equal(x.afterRestart.newPrimary.port, BASELINE_PORTS.standby);
        assert.equal(x.afterRestart.newPrimary.inRecovery, false);
        assert.ok(x.afterRestart.newPrimary.timeline > 1, "promotion starts a new timeline");
    });

    it("has two primaries accepting writes once the old primary is restarted (split brain)", () => {
        const x = result();
        assert.equal(x.afterRestart.oldPrimary.inRecovery, false, "the restarted old primary is not a standby");
        assert.equal(x.afterRestart.oldPrimary.acceptedWrite, true);
        assert.equal(x.afterRestart.newPrimary.acceptedWrite, true);
        assert.notEqual(x.afterRestart.oldPrimary.timeline, x.afterRestart.newPrimary.timeline, "the two primaries have diverged");
        assert.equal(x.twoPrimariesAfterRestart, true);
    });
});
