/**
 * The region fence's bucket stand-ins for the chaos tests (renderers/fence.ts): a local directory per region stands in
 * for its WAL bucket (`kind: "dir"` sources of the fence sync), as the PITR test's directory stands in for WAL-G's
 * bucket. {@link recordFence} does what `npm run promote` does (scripts/promote.ts `recordFence`) with `aws s3 cp`
 * replaced by file reads and writes: read both regions' records, write the next epoch into the promoted region's
 * bucket; the old region's bucket is written only when it is reachable (`oldRegionReachable`), and the scenarios
 * pass false: the old region is dead at promotion time, so its gates must find the record in the peer's bucket.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FENCE_DEFAULTS, Fence, FenceSource, nextFence, parseFence, renderFence } from "../../renderers/fence";

/** Two regions' bucket stand-ins under `root`. */
export interface FenceBuckets {
    readonly primaryRegion: string;
    readonly standbyRegion: string;
    /** Directory standing in for each region's WAL bucket. */
    readonly dirs: Readonly<Record<string, string>>;
    /** The fence sync's sources (both regions), for the primary region's sync. */
    readonly sources: readonly FenceSource[];
}

/** Makes the two stand-in buckets (empty: no record yet). */
export function fenceBuckets(root: string, primaryRegion: string, standbyRegion: string): FenceBuckets {
    const dirs: Record<string, string> = {};
    for (const r of [primaryRegion, standbyRegion]) {
        dirs[r] = path.join(root, `bucket-${r}`);
        fs.mkdirSync(dirs[r], { recursive: true });
        fs.chmodSync(dirs[r], 0o755);
    }
    return { primaryRegion, standbyRegion, dirs, sources: [primaryRegion, standbyRegion].map((r) => ({ name: r, kind: "dir" as const, path: dirs[r] })) };
}

function read(dir: string): Fence | undefined {
    const file = path.join(dir, FENCE_DEFAULTS.key);
    return fs.existsSync(file) ? parseFence(fs.readFileSync(file, "utf8")) : undefined;
}

/** The promotion's fence record: `promoted` becomes the primary; returns the record written. */
export function recordFence(b: FenceBuckets, promoted: string, opts: { oldRegionReachable: boolean }): Fence {
    const old = promoted === b.primaryRegion ? b.standbyRegion : b.primaryRegion;
    const found = opts.oldRegionReachable ? [read(b.dirs[promoted]), read(b.dirs[old])] : [read(b.dirs[promoted])];
    const f = nextFence(found, promoted, old, new Date());
    for (const r of opts.oldRegionReachable ? [promoted, old] : [promoted]) {
        const file = path.join(b.dirs[r], FENCE_DEFAULTS.key);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(`${file}.tmp`, renderFence(f), { mode: 0o644 });
        fs.renameSync(`${file}.tmp`, file);
    }
    return f;
}

/** The lines of `logFile` where a gate said it is fenced. */
export function fencedLines(logFile: string): string[] {
    try {
        return fs.readFileSync(logFile, "utf8").split("\n").filter((l) => l.includes("FENCED"));
    } catch {
        return [];
    }
}
