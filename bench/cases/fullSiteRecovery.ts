/**
 * `full_site_recovery`: the full-site recovery drill (test/chaos/fullSiteDrill.ts) with real daemons: restore the
 * database to a point in time (the pitr_restore path), restore Redis from an RDB copy (the rendered restore step),
 * deploy the restored data tier with the rendered configs, verify health end to end. Seconds from "site lost" to
 * every health check passing, against the design document's RTO of 15 minutes. A run that fails a health check
 * fails the case. Not measured here: creating the new region's hosts and Swarm (`pulumi up`) and image pulls.
 */
import { DESIGN_RTO_S, DrillResult, runFullSiteDrill } from "../../test/chaos/fullSiteDrill";
import { BenchCase, median, summarise } from "../types";

/** Prints one drill's figures against the design's 15 minutes. */
export function printDrill(r: DrillResult, out: (s: string) => void): void {
    out(`   total ${r.totalSeconds.toFixed(1)} s against the design document's ${DESIGN_RTO_S} s (15 minutes): ${r.totalSeconds <= DESIGN_RTO_S ? "within" : "OVER"}; healthy: ${r.healthy} (${Object.entries(r.checks).map(([k, v]) => `${k} ${v ? "ok" : "FAILED"}`).join(", ")})\n`);
    out(`   database: restored in ${r.pitr.seconds.toFixed(1)} s, rows_missing_before_target ${r.pitr.rowsMissingBeforeTarget}, rows_after_target ${r.pitr.rowsAfterTarget} (of ${r.pitr.rowsBefore} / ${r.pitr.rowsAfter}), dropped table back: ${r.pitr.preciousBack}\n`);
    out(`   redis: ${r.redisKeys.master}/${r.redisKeys.written} keys on the restored master, ${r.redisKeys.replica} on its replica\n`);
}

export const full_site_recovery: BenchCase = async (runs) => {
    const results: DrillResult[] = [];
    for (let i = 0; i < runs; i++) {
        const r = await runFullSiteDrill((l) => process.stdout.write(l + "\n"));
        printDrill(r, (s) => process.stdout.write(s));
        if (!r.healthy) throw new Error(`drill run ${i + 1} did not pass its health checks`);
        results.push(r);
    }
    const phaseNames = Object.keys(results[0].phases);
    const phases = Object.fromEntries(phaseNames.map((p) => [p, median(results.map((r) => r.phases[p]))]));
    return summarise(results.map((r) => r.totalSeconds), results.reduce((a, r) => a + r.pitr.rowsMissingBeforeTarget, 0), {
        rows_after_target: results.reduce((a, r) => a + r.pitr.rowsAfterTarget, 0),
        rows_missing_before_target: results.reduce((a, r) => a + r.pitr.rowsMissingBeforeTarget, 0),
        phases_s: phases,
        notes: `seconds from "site lost" to every health check passing (Patroni leader + streaming replica, application role write through HAProxy, Redis PING and all ${results[0].redisKeys.written} keys on master and replica), against the design's 15 minutes (${DESIGN_RTO_S} s); database and Redis restored in parallel; not measured: pulumi up of the new region's hosts and Swarm, image pulls; a local directory stands in for the S3 bucket`,
    });
};
