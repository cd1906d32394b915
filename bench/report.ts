/**
 * The bench report shared by `npm run bench:failover` and `npm run bench:swarm`: what the design document claims for
 * each case, the targets, the markdown table (bench/results.md and the README's availability table), and merging a
 * run's figures into bench/results.json (a run replaces only the cases it measured).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CaseResult } from "./types";

export const RESULTS_JSON = path.join(__dirname, "results.json");
export const RESULTS_MD = path.join(__dirname, "results.md");

/** What the design document claims for each case, shown beside the measured figures. */
export const CLAIMS: Record<string, string> = {
    postgres: "automatic failover (its bash loop: 5 s checks + 10 s re-check, no fencing)",
    postgres_switchover: "zero-downtime deployments",
    postgres_restart: "automatic failover",
    postgres_double_failure: "no data loss on failover (the leader's host, then the new leader's 5 s after its promotion; 3 members)",
    redis: "automatic failover (Sentinel, down-after 5 s)",
    vip: "keepalived VIP failover, 99.99 % edge uptime",
    baseline_script: "the document's own Postgres failover loop, measured for comparison",
    pitr_restore: "point-in-time recovery (PITR) enabled; RTO 15 minutes",
    full_site_recovery: "full-site recovery procedure (scripts/disaster_recovery.sh); RTO 15 minutes",
    swarm_postgres_host_crash: "automatic failover (on the Swarm: the leader's whole host dies)",
    swarm_redis_host_crash: "automatic failover (on the Swarm: the master's whole host dies)",
    swarm_backend_rolling_update: "zero-downtime deployments (rolling update)",
    swarm_blue_green_switch: "zero-downtime deployments (blue/green switch)",
    swarm_node_drain: "zero-downtime maintenance (node drain)",
    swarm_manager_replacement: "replace any host without losing quorum (the init manager's host replaced by a new empty instance)",
    swarm_data_host_replacement: "replace any host without losing data (a data host replaced by a new instance with an empty disk)",
    swarm_postgres_rolling_update: "zero-downtime deployments (a Spilo image bump rolled under writes; seconds without an acknowledged write)",
    swarm_password_rotation: "rotate any secret (pgApp, pgMonitor): 0 failed logins after it",
    region_promotion: "RTO 15 min, RPO 5 min (full-site recovery); here: the whole primary region killed, the Patroni standby cluster promoted by PATCH /config",
    region_redis_promotion: "RTO 15 min (full-site recovery); here: the standby region's Redis replica promoted (REPLICAOF NO ONE, CONFIG REWRITE)",
};

/** The targets (medians, seconds) the README holds us to. */
export const TARGETS_S: Record<string, number> = {
    postgres: 21,
    postgres_switchover: 5,
    postgres_restart: 5,
    /** Seconds from the second kill to the first write on the last member: a host crash costs about ttl (20 s). */
    postgres_double_failure: 21,
    redis: 7,
    vip: 4,
    pitr_restore: 900,
    full_site_recovery: 900,
    swarm_postgres_host_crash: 25,
    swarm_redis_host_crash: 10,
    /** Seconds without an acknowledged write over the whole roll (issue 12: <= 5 s in total). */
    swarm_postgres_rolling_update: 5,
    region_promotion: 30,
    region_redis_promotion: 30,
};

/** Cases whose target is a count of zero (failed requests or lost writes), not a median. */
export const ZERO_TARGETS = new Set(["swarm_backend_rolling_update", "swarm_blue_green_switch", "swarm_node_drain", "swarm_manager_replacement", "swarm_data_host_replacement", "swarm_password_rotation"]);

export function markdown(results: Record<string, CaseResult>): string {
    const rows = Object.entries(results).map(([name, r]) => {
        const lossOrFailed = r.failed_requests !== undefined ? `${r.failed_requests} failed requests` : String(r.acknowledged_writes_lost ?? "");
        const zeroOk = (r.failed_requests ?? 0) === 0 && (r.acknowledged_writes_lost ?? 0) === 0 && (r.rows_after_target ?? 0) === 0 && (r.rows_missing_before_target ?? 0) === 0;
        const target = TARGETS_S[name] !== undefined ? `≤ ${TARGETS_S[name]} s` : ZERO_TARGETS.has(name) ? (r.failed_requests !== undefined ? "0 failed" : "0 lost") : "(baseline)";
        const met = TARGETS_S[name] !== undefined ? (r.median_s <= TARGETS_S[name] && zeroOk ? "yes" : "**no**") : ZERO_TARGETS.has(name) ? (zeroOk ? "yes" : "**no**") : "";
        const notes: string[] = [];
        if (r.two_primaries_after_restart !== undefined) notes.push(`two primaries after restart: ${r.two_primaries_after_restart}`);
        if (r.replication_lag_at_kill_bytes !== undefined) notes.push(`replication lag at the kill (median): ${r.replication_lag_at_kill_bytes} B${r.replication_lag_at_kill_s !== undefined ? ` (${r.replication_lag_at_kill_s} s)` : ""}`);
        if (r.end_to_end_rto_s !== undefined) notes.push(`end-to-end RTO with Route53 detection + TTL: ${r.end_to_end_rto_s} s (target 180 s; the design document says 15 min)`);
        if (r.old_region_writes_accepted !== undefined) notes.push(`old region restarted as it was: **${r.old_region_writes_accepted} writes accepted**`);
        if (r.rows_after_target !== undefined) notes.push(`rows_after_target ${r.rows_after_target}, rows_missing_before_target ${r.rows_missing_before_target}`);
        if (r.phases_s) notes.push(`phases (median s after the kill): ${Object.entries(r.phases_s).map(([k, v]) => `${k} ${v}`).join(", ")}`);
        const extra = notes.join("; ");
        return `| ${name} | ${CLAIMS[name] ?? ""} | ${r.runs} | ${r.median_s} | ${r.min_s} | ${r.max_s} | ${lossOrFailed} | ${target} | ${met} | ${extra} |`;
    });
    const runs = [...new Set(Object.values(results).map((r) => r.runs))].join("/");
    return [
        `Failover measured on ${new Date().toISOString().slice(0, 10)} (${runs} runs per case; seconds from the kill to the first acknowledged write, or to the VIP on the other node; ` +
            `for the swarm_ load cases, seconds the operation took under load).`,
        "",
        "| case | design document claims | runs | median s | min s | max s | acknowledged writes lost (or failed requests) | target (median) | met | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
        "",
    ].join("\n");
}

/** Merges `results` into bench/results.json (other cases kept), rewrites bench/results.md, returns the markdown. */
export function mergeResults(results: Record<string, CaseResult>): { all: Record<string, CaseResult>; md: string } {
    const old = fs.existsSync(RESULTS_JSON) ? (JSON.parse(fs.readFileSync(RESULTS_JSON, "utf8")) as Record<string, CaseResult>) : {};
    const all = { ...old, ...results };
    fs.writeFileSync(RESULTS_JSON, JSON.stringify(all, null, 2) + "\n");
    const md = markdown(all);
    fs.writeFileSync(RESULTS_MD, md);
    return { all, md };
}

/** Puts the table between the bench-table markers of README.md. */
export function updateReadme(md: string): void {
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
