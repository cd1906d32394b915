/**
 * `npm run bench:failover`: measures failover on this machine against the real daemons, with the settings
 * the renderers ship, and prints and writes the figures to bench/results.json and bench/results.md.
 * BENCH_RUNS sets runs per case (default 5); BENCH_CASES (comma-separated) picks cases.
 * Figures, not assertions: the chaos tests assert behaviour; this script measures it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CaseResult, BenchCase } from "./types";

/** Case name → module and export. Loaded lazily so that one case's missing daemon does not stop the others. */
const CASES: Record<string, () => Promise<BenchCase>> = {
    postgres: async () => (await import("./cases/postgres")).postgres,
    postgres_switchover: async () => (await import("./cases/postgres")).postgres_switchover,
    postgres_restart: async () => (await import("./cases/postgres")).postgres_restart,
    redis: async () => (await import("./cases/redis")).redis,
    vip: async () => (await import("./cases/vip")).vip,
    baseline_script: async () => (await import("./cases/baseline")).baseline_script,
};

/** What the design document claims for each case, shown beside the measured figures. */
export const CLAIMS: Record<string, string> = {
    postgres: "automatic failover (its bash loop: 5 s checks + 10 s re-check, no fencing)",
    postgres_switchover: "zero-downtime deployments",
    postgres_restart: "automatic failover",
    redis: "automatic failover (Sentinel, down-after 5 s)",
    vip: "keepalived VIP failover, 99.99 % edge uptime",
    baseline_script: "the document's own Postgres failover loop, measured for comparison",
};

/** The targets (medians, seconds) the README holds us to. */
export const TARGETS_S: Record<string, number> = {
    postgres: 21,
    postgres_switchover: 5,
    postgres_restart: 5,
    redis: 7,
    vip: 4,
};

function markdown(results: Record<string, CaseResult>, runs: number): string {
    const rows = Object.entries(results).map(([name, r]) => {
        const target = TARGETS_S[name] !== undefined ? `≤ ${TARGETS_S[name]} s` : "(baseline)";
        const met = TARGETS_S[name] === undefined ? "" : r.median_s <= TARGETS_S[name] ? "yes" : "**no**";
        const notes: string[] = [];
        if (r.two_primaries_after_restart !== undefined) notes.push(`two primaries after restart: ${r.two_primaries_after_restart}`);
        if (r.phases_s) notes.push(`phases (median s after the kill): ${Object.entries(r.phases_s).map(([k, v]) => `${k} ${v}`).join(", ")}`);
        const extra = notes.join("; ");
        return `| ${name} | ${CLAIMS[name] ?? ""} | ${r.runs} | ${r.median_s} | ${r.min_s} | ${r.max_s} | ${r.acknowledged_writes_lost} | ${target} | ${met} | ${extra} |`;
    });
    return [
        `Failover measured on ${new Date().toISOString().slice(0, 10)} (up to ${runs} runs per case, see the runs column; seconds from the kill to the first acknowledged write, or to the VIP on the other node).`,
        "",
        "| case | design document claims | runs | median s | min s | max s | acknowledged writes lost | target (median) | met | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
        "",
    ].join("\n");
}

/** Puts the table between the bench-table markers of README.md (only after a complete, successful run). */
function updateReadme(md: string): void {
    const readme = path.resolve(__dirname, "..", "README.md");
    const text = fs.readFileSync(readme, "utf8");
    const begin = "<!-- bench-table:begin -->";
    const end = "<!-- bench-table:end -->";
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a < 0 || b < 0) return;
    fs.writeFileSync(readme, `${text.slice(0, a + begin.length)}\n${md}${text.slice(b)}`);
    process.stdout.write("README.md availability table updated\n");
}

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
            if (r.phases_s) process.stdout.write(`   where the seconds go (median s after the kill): ${Object.entries(r.phases_s).map(([k, v]) => `${k} ${v}`).join(" -> ")}\n`);
        } catch (e) {
            failed++;
            process.stdout.write(`   FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
        }
    }
    const dir = path.resolve(__dirname);
    // A subset run (BENCH_CASES) keeps the other cases' last figures.
    const file = path.join(dir, "results.json");
    const previous = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, CaseResult>) : {};
    const merged: Record<string, CaseResult> = {};
    for (const name of Object.keys(CASES)) if (results[name] ?? previous[name]) merged[name] = results[name] ?? previous[name];
    fs.writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
    const md = markdown(merged, runs);
    fs.writeFileSync(path.join(dir, "results.md"), md);
    process.stdout.write("\n" + md);
    if (picked.length === Object.keys(CASES).length && failed === 0) updateReadme(md);
    return failed === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    },
);
