/**
 * `npm run drill:full-site`: the full-site recovery drill once (DRILL_RUNS for more) against real daemons on this
 * machine (root needed: Patroni runs as postgres), printed against the design document's 15 minutes, and written
 * into bench/results.json (case `full_site_recovery`) like the other bench cases. See bench/cases/fullSiteRecovery.ts.
 */
import { full_site_recovery } from "../bench/cases/fullSiteRecovery";
import { mergeResults } from "../bench/report";

async function main(): Promise<number> {
    const runs = Number(process.env.DRILL_RUNS ?? 1);
    if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error(`DRILL_RUNS=${process.env.DRILL_RUNS}: must be an integer from 1 to 20`);
    process.stdout.write(`== full_site_recovery: ${runs} run(s)\n`);
    const r = await full_site_recovery(runs);
    process.stdout.write(`   median ${r.median_s} s (min ${r.min_s}, max ${r.max_s}) against 900 s (the design document's 15 minutes); rows_missing_before_target ${r.rows_missing_before_target}, rows_after_target ${r.rows_after_target}\n`);
    mergeResults({ full_site_recovery: r });
    process.stdout.write("written to bench/results.json and bench/results.md\n");
    return 0;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`drill failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    },
);
