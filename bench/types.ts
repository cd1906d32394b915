/** One measured failover case, as written to bench/results.json. */
export interface CaseResult {
    /** How many kill-to-writable runs were measured. */
    runs: number;
    /** Median seconds from the kill to the first acknowledged write on the new writer. */
    median_s: number;
    min_s: number;
    max_s: number;
    /** Acknowledged writes missing after failover, summed over all runs (the failover cases). */
    acknowledged_writes_lost?: number;
    /** Requests that failed under load, summed over all runs (the load cases). */
    failed_requests?: number;
    /** Every run's seconds, in order. */
    samples_s: number[];
    /** Only for the design document's own script: did the old primary come back as a second primary? */
    two_primaries_after_restart?: boolean;
    /** Point-in-time restore: rows that started after the target time and are present (must be 0). */
    rows_after_target?: number;
    /** Point-in-time restore: rows acknowledged before the target time and missing (must be 0). */
    rows_missing_before_target?: number;
    /** Free-form notes a case wants to print beside its figures. */
    notes?: string;
    /**
     * Where the seconds go: phase name -> median seconds from the fault to the end of that phase (cumulative,
     * in order), e.g. Patroni noticed, Postgres accepting, HAProxy routing.
     */
    phases_s?: Record<string, number>;
    /** Region promotion: replication lag of the standby region when the primary region was killed (median of the runs). */
    replication_lag_at_kill_bytes?: number;
    replication_lag_at_kill_s?: number;
    /** Region promotion: Route53 detection + TTL (from the plan) + the median promotion, seconds. */
    end_to_end_rto_s?: number;
    /** Region promotion: writes the old primary region acknowledged after it was restarted as it was (all runs). */
    old_region_writes_accepted?: number;
}

/** A bench case: runs the scenario `runs` times and summarises. */
export type BenchCase = (runs: number) => Promise<CaseResult>;

/** Median of `xs` (NaN when empty), rounded to ms. */
export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    const med = s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    return Math.round(med * 1000) / 1000;
}

export function summarise(samples: number[], lost: number, extra: Partial<CaseResult> = {}): CaseResult {
    const s = [...samples].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    const med = s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    return {
        runs: samples.length,
        median_s: r3(med),
        min_s: r3(s[0] ?? NaN),
        max_s: r3(s[s.length - 1] ?? NaN),
        acknowledged_writes_lost: lost,
        samples_s: samples.map(r3),
        ...extra,
    };
}
