/**
 * Bench case for the design document's own Postgres failover (scripts/postgres_failover.sh on two plain
 * PostgreSQL 15 servers): seconds from SIGKILL of the primary's postmaster to the first acknowledged write on the
 * promoted standby, acknowledged writes lost, and whether the restarted old primary came back as a second primary.
 */
import { runBaselineScenario } from "../../test/chaos/baselineScript";
import { BenchCase, summarise } from "../types";

export const baseline_script: BenchCase = async (runs) => {
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${runs}`);
    const samples: number[] = [];
    const lostPerRun: number[] = [];
    const twoPrimaries: boolean[] = [];
    const syncStates = new Set<string>();
    for (let i = 0; i < runs; i++) {
        const r = await runBaselineScenario();
        samples.push(r.killToWritableS);
        lostPerRun.push(r.lostIds.length);
        twoPrimaries.push(r.twoPrimariesAfterRestart);
        syncStates.add(r.replication.syncState);
    }
    const lost = lostPerRun.reduce((a, b) => a + b, 0);
    return summarise(samples, lost, {
        two_primaries_after_restart: twoPrimaries.every((x) => x),
        notes:
            `bash loop (pg_isready every 5 s, re-check after 10 s, pg_ctl promote); replication sync_state=${[...syncStates].join("/")} ` +
            `(synchronous_commit=on, no synchronous_standby_names); lost per run ${lostPerRun.join(",")}; ` +
            `two primaries after restart per run ${twoPrimaries.join(",")}`,
    });
};
