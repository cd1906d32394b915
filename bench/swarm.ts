/**
 * `npm run bench:swarm`: failovers and zero-downtime operations measured on a real multi-node Swarm of us-east-1's
 * plan (test/swarm/: the lab of the plan's hosts, the stand-in images, the plan's objects applied as the provider
 * would, converged). Prints the lab's deviations from the plan first, then the figures, merged into
 * bench/results.json and bench/results.md (other cases kept). BENCH_RUNS sets runs per case (default 3),
 * BENCH_RUNS_<CASE> (e.g. BENCH_RUNS_SWARM_PASSWORD_ROTATION=1) one case's; BENCH_CASES (comma-separated) picks cases. Figures, not assertions (the Swarm tests assert behaviour).
 */
import { StackLab, startStackLab } from "../test/swarm/support";
import { mergeResults, updateReadme } from "./report";
import { swarmPostgresHostCrash, swarmRedisHostCrash } from "./cases/swarmFailover";
import { swarmBackendRollingUpdate, swarmBlueGreenSwitch, swarmNodeDrain } from "./cases/swarmLoad";
import { swarmDataHostReplacement, swarmManagerReplacement } from "./cases/swarmDay2";
import { swarmPasswordRotation, swarmPostgresRollingUpdate } from "./cases/swarmRoll";
import { CaseResult } from "./types";

const CASES: Record<string, (s: StackLab, runs: number) => Promise<CaseResult>> = {
    swarm_postgres_host_crash: swarmPostgresHostCrash,
    swarm_redis_host_crash: swarmRedisHostCrash,
    swarm_backend_rolling_update: swarmBackendRollingUpdate,
    swarm_blue_green_switch: swarmBlueGreenSwitch,
    swarm_node_drain: swarmNodeDrain,
    swarm_manager_replacement: swarmManagerReplacement,
    swarm_data_host_replacement: swarmDataHostReplacement,
    swarm_postgres_rolling_update: swarmPostgresRollingUpdate,
    // Last: it leaves the lab on new passwords that the lab's translation (read by the other cases) does not hold.
    swarm_password_rotation: swarmPasswordRotation,
};

async function main(): Promise<number> {
    const runsOf = (name?: string): number => {
        const key = name ? `BENCH_RUNS_${name.toUpperCase()}` : "BENCH_RUNS";
        const v = process.env[key] ?? (name ? undefined : "3");
        if (v === undefined) return runsOf();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 50) throw new Error(`${key}=${v}: must be an integer from 1 to 50`);
        return n;
    };
    const picked = (process.env.BENCH_CASES ?? Object.keys(CASES).join(",")).split(",").map((x) => x.trim()).filter(Boolean);
    for (const p of picked) if (!CASES[p]) throw new Error(`BENCH_CASES names ${p}; cases are ${Object.keys(CASES).join(", ")}`);
    for (const p of picked) runsOf(p);
    const s = await startStackLab("us-east-1");
    const results: Record<string, CaseResult> = {};
    let failed = 0;
    try {
        if ("error" in s.converged) throw new Error(`the plan did not converge on the lab, nothing to measure: ${s.converged.error.message}`);
        for (const name of picked) {
            const runs = runsOf(name);
            process.stdout.write(`== ${name}: ${runs} run(s)\n`);
            try {
                const r = (results[name] = await CASES[name](s, runs));
                const count = r.failed_requests !== undefined ? `failed requests ${r.failed_requests}` : `acknowledged writes lost ${r.acknowledged_writes_lost}`;
                process.stdout.write(`   median ${r.median_s} s (min ${r.min_s}, max ${r.max_s}), ${count}${r.notes ? `; ${r.notes}` : ""}\n`);
            } catch (e) {
                failed++;
                process.stdout.write(`   FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
            }
        }
    } finally {
        await s.stop();
    }
    if (Object.keys(results).length > 0) {
        const { md } = mergeResults(results);
        process.stdout.write("\n" + md);
        if (failed === 0) updateReadme(md);
    }
    return failed === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    },
);
