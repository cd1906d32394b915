/** Pure arithmetic of the bench cases (no I/O): what a client loop's attempts mean, and the stand-in image tags. */

/** One attempt of a client loop: epoch seconds it started and ended, and whether it was acknowledged. */
export interface Timed {
    readonly ok: boolean;
    readonly start: number;
    readonly end: number;
    /** What the attempt printed (why it failed). */
    readonly detail?: string;
}

/**
 * The failed attempts that started in [fromS, toS), folded by reason (digits ignored): `3x timeout expired`, most
 * frequent first.
 */
export function failureReasons(attempts: readonly Timed[], fromS: number, toS: number): string[] {
    const counts = new Map<string, { n: number; text: string }>();
    for (const a of attempts) {
        if (a.ok || a.start < fromS || a.start >= toS) continue;
        const text = (a.detail ?? "").replace(/^psql: error: connection to server at "[^"]*", port \d+ failed: /, "").trim() || "(no output)";
        const key = text.replace(/[\d.]+/g, "#");
        const c = counts.get(key) ?? { n: 0, text };
        c.n++;
        counts.set(key, c);
    }
    return [...counts.values()].sort((a, b) => b.n - a.n).map((c) => `${c.n}x ${c.text}`);
}

/**
 * Seconds without an acknowledged write from `fromS` to `toS`: the gaps between consecutive acknowledgements (and
 * from `fromS` to the first, from the last to `toS`) longer than `overS`, summed; and the longest gap.
 */
export function writeGaps(attempts: readonly Timed[], fromS: number, toS: number, overS = 1): { totalS: number; longestS: number; gaps: { at: number; s: number }[] } {
    const ends = attempts.filter((a) => a.ok && a.end >= fromS && a.end <= toS).map((a) => a.end).sort((a, b) => a - b);
    const points = [fromS, ...ends, toS];
    const gaps: { at: number; s: number }[] = [];
    for (let i = 1; i < points.length; i++) {
        const g = points[i] - points[i - 1];
        if (g > overS) gaps.push({ at: points[i - 1] - fromS, s: g });
    }
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    return { totalS: r3(gaps.reduce((a, g) => a + g.s, 0)), longestS: r3(Math.max(0, ...gaps.map((g) => g.s))), gaps: gaps.map((g) => ({ at: r3(g.at), s: r3(g.s) })) };
}

/** `repo:4.0-p2` -> `repo:4.0-p3`: the next patch tag of a Spilo image. */
export function nextSpiloTag(ref: string): string {
    const m = /^(.*:.*-p)(\d+)$/.exec(ref);
    if (!m) throw new Error(`spiloImage ${ref}: want <repo>:<version>-p<N>`);
    return `${m[1]}${Number(m[2]) + 1}`;
}

