/**
 * `npm run bench:failover`: measures failover on this machine against the real daemons, with the settings
 * the renderers ship, and prints and writes the figures to bench/results.json and bench/results.md.
 * BENCH_RUNS sets runs per case (default 5); BENCH_CASES (comma-separated) picks cases.
 * Figures, not assertions: the chaos tests assert behaviour; this script measures it.
 */
import { mergeResults, updateReadme } from "./report";
import { CaseResult, BenchCase } from "./types";

/** Case name → module and export. Loaded lazily so that one case's missing daemon does not stop the others. */
const CASES: Record<string, () => Promise<BenchCase>> = {
    postgres: async () => (await import("./cases/postgres")).postgres,
    postgres_switchover: async () => (await import("./cases/postgres")).postgres_switchover,
    postgres_restart: async () => (await import("./cases/postgres")).postgres_restart,
    postgres_double_failure: async () => (await import("./cases/postgresDoubleFailure")).postgres_double_failure,
    redis: async () => (await import("./cases/redis")).redis,
    vip: async () => (await import("./cases/vip")).vip,
    baseline_script: async () => (await import("./cases/baseline")).baseline_script,
    region_promotion: async () => (await import("./cases/regionPromotion")).region_promotion,
    region_redis_promotion: async () => (await import("./cases/regionRedisPromotion")).region_redis_promotion,
    pitr_restore: async () => (await import("./cases/pitrRestore")).pitr_restore,
    full_site_recovery: async () => (await import("./cases/fullSiteRecovery")).full_site_recovery,
};

async function main(): Promise<number> {
    const runs = Number(process.env.BENCH_RUNS ?? 5);
    if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`BENCH_RUNS=${process.env.BENCH_RUNS}: must be an integer from 1 to 50`);
    const picked = (process.env.BENCH_CASES ?? Object.keys(CASES).join(",")).split(",").map((s) => s.trim()).filter(Boolean);
    for (const p of picked) if (!CASES[p]) throw new Error(`BENCH_CASES names ${p}; cases are ${Object.keys(CASES).join(", ")}`);
    const results: Record<string, CaseResult> = {};
    let failed = 0;
    for (const name of picked) {
        process.stdout.write(`== ${name}: ${runs} run(s)\n`);
        try {
            results[name] = await (await CASES[name]())(runs);
            const r = results[name];
            process.stdout.write(`   median ${r.median_s} s (min ${r.min_s}, max ${r.max_s}), acknowledged writes lost ${r.acknowledged_writes_lost}${r.notes ? `; ${r.notes}` : ""}\n`);
        } catch (e) {
            failed++;
            process.stdout.write(`   FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
        }
    }
    // Merged: the cases of bench:swarm stay in results.json.
    const { md } = mergeResults(results);
    process.stdout.write("\n" + md);
    // The merged table holds every case (these runs' and the kept ones), so the README's copy always matches results.md.
    if (failed === 0) updateReadme(md);
    return failed === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    },
);
