/**
 * The region fence (issue 10): how an old primary region, restarted after the other region was promoted, learns on
 * its own that it must not take writes, even when it was dead (unreachable) at promotion time. Pure: input -> text.
 *
 * - The record. `npm run promote` writes a small text object, {@link FENCE_DEFAULTS.key}, into the WAL bucket of the
 *   region it promotes (that bucket is in the live region: the write never needs the dead one), and tries the same
 *   write into the old region's bucket (best effort; `npm run promote -- fence <stack>` retries it). It names the
 *   primary region and an epoch, one more than the highest epoch found in either bucket, so that a later promotion
 *   back (fail-back) outranks it without anyone having to delete the old record first.
 * - The sync. On every data host a small service (the AWS CLI image) copies that object from BOTH regions' buckets
 *   into a host volume every few seconds ({@link renderFenceSync}), and stamps the time of each round in `checked`.
 * - The gate. The Spilo entrypoint and the Redis and Sentinel start scripts run {@link fenceGateLines} before the
 *   daemon: wait for a sync round begun after this start (a copy left on the volume from before a promotion must not
 *   count), take the record with the highest epoch, and when this member is rendered for the primary role but the
 *   record names another region, log the fence and the runbook command and exit (Swarm restarts it; it stays down
 *   until the region is rebuilt as a standby of the new primary). A member rendered as a standby always starts: a
 *   standby takes no writes, and that is how the old region comes back (README "Region promotion", fail-back).
 *
 * In the tests a local directory stands in for each bucket (`kind: "dir"`), as the PITR test does for WAL-G.
 */

/** Fixed names of the fence. */
export const FENCE_DEFAULTS = {
    /** Object key of the fence record in each region's WAL bucket. */
    key: "ops-center/region-fence.txt",
    /** Where the fence sync writes, and the gated containers read (read-only), the host volume. */
    dir: "/ops-fence",
    /** Seconds between two sync rounds. */
    intervalS: 5,
    /** Seconds a gate waits for a sync round newer than its own start before it refuses to start. */
    waitS: 120,
    /** Seconds a fenced member waits before it exits (Swarm restarts it: one log line per this, not per restart delay). */
    fencedSleepS: 60,
    /** Where the sync script is mounted in the AWS CLI container. */
    syncScriptPath: "/usr/local/bin/ops-fence-sync.sh",
} as const;

/** One fence record. */
export interface Fence {
    /** Strictly increasing across promotions; the highest one wins. */
    readonly epoch: number;
    /** The region that is the primary since this promotion. */
    readonly primaryRegion: string;
    /** The region promoted away from (fenced while rendered as a primary). */
    readonly fencedRegion: string;
    /** When the promotion recorded it, RFC 3339 UTC. */
    readonly recordedAt: string;
}

const REGION_RE = /^[a-z]{2}(-gov)?(-[a-z]+)+-\d$/;
const PATH_RE = /^\/[A-Za-z0-9._/-]*$/;

function fail(field: string, value: unknown, allowed: string): never {
    throw new Error(`fence: ${field} = ${JSON.stringify(value)} is invalid: ${allowed}`);
}

function checkFence(f: Fence): Fence {
    if (!Number.isInteger(f.epoch) || f.epoch < 1 || f.epoch > 1_000_000) fail("epoch", f.epoch, "an integer from 1 to 1000000");
    if (!REGION_RE.test(f.primaryRegion)) fail("primaryRegion", f.primaryRegion, "an AWS region such as us-west-2");
    if (!REGION_RE.test(f.fencedRegion)) fail("fencedRegion", f.fencedRegion, "an AWS region such as us-east-1");
    if (f.primaryRegion === f.fencedRegion) fail("fencedRegion", f.fencedRegion, "a region other than primaryRegion");
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(f.recordedAt)) fail("recordedAt", f.recordedAt, "RFC 3339 UTC, e.g. 2026-11-29T13:00:00Z");
    return f;
}

/** The record's text: `key=value` lines a POSIX shell reads with awk (no JSON parser in the Redis image). */
export function renderFence(f: Fence): string {
    checkFence(f);
    return [
        "# ops-center-ha region fence, written by `npm run promote` (README \"Region promotion\"). The highest epoch wins.",
        `epoch=${f.epoch}`,
        `primary_region=${f.primaryRegion}`,
        `fenced_region=${f.fencedRegion}`,
        `recorded_at=${f.recordedAt}`,
        "",
    ].join("\n");
}

/** Parses a record; undefined when the text is not one (the gate ignores such a file too, and says so). */
export function parseFence(text: string): Fence | undefined {
    const kv = new Map<string, string>();
    for (const line of text.split("\n")) {
        const m = /^([a-z_]+)=(.*)$/.exec(line.trim());
        if (m && !kv.has(m[1])) kv.set(m[1], m[2]);
    }
    const f = { epoch: Number(kv.get("epoch")), primaryRegion: kv.get("primary_region") ?? "", fencedRegion: kv.get("fenced_region") ?? "", recordedAt: kv.get("recorded_at") ?? "" };
    try {
        return checkFence(f);
    } catch {
        return undefined;
    }
}

/** The record a promotion of `primaryRegion` away from `fencedRegion` writes, given the records found (any bucket). */
export function nextFence(found: readonly (Fence | undefined)[], primaryRegion: string, fencedRegion: string, at: Date): Fence {
    const epoch = Math.max(0, ...found.filter((f): f is Fence => f !== undefined).map((f) => f.epoch)) + 1;
    return checkFence({ epoch, primaryRegion, fencedRegion, recordedAt: at.toISOString().replace(/\.\d+Z$/, "Z") });
}

/** The record that decides: the highest epoch (what the gate computes in sh). */
export function winningFence(found: readonly (Fence | undefined)[]): Fence | undefined {
    return found.filter((f): f is Fence => f !== undefined).reduce<Fence | undefined>((best, f) => (best === undefined || f.epoch > best.epoch ? f : best), undefined);
}

/** True when a member of `region`, rendered for `role`, must not start under the records `found`. */
export function isFenced(found: readonly (Fence | undefined)[], region: string, role: "primary" | "standby"): boolean {
    const w = winningFence(found);
    return role === "primary" && w !== undefined && w.primaryRegion !== region;
}

/** Input of {@link fenceGateLines}. */
export interface FenceGateInput {
    /** This stack's region. */
    readonly region: string;
    /** The role the member is rendered for: only "primary" can be fenced. */
    readonly role: "primary" | "standby";
    /** The fence volume (default FENCE_DEFAULTS.dir). */
    readonly dir?: string;
    /** Seconds to wait for a fresh sync round (default FENCE_DEFAULTS.waitS). */
    readonly waitS?: number;
    /** Seconds a fenced member waits before exiting (default FENCE_DEFAULTS.fencedSleepS). */
    readonly fencedSleepS?: number;
}

/** Checks a gate input; returns it with defaults applied. */
export function fenceGateSettings(g: FenceGateInput): Required<FenceGateInput> {
    if (!REGION_RE.test(g.region)) fail("region", g.region, "an AWS region such as us-east-1");
    if (g.role !== "primary" && g.role !== "standby") fail("role", g.role, '"primary" or "standby"');
    const dir = g.dir ?? FENCE_DEFAULTS.dir;
    if (!PATH_RE.test(dir) || dir.includes("..")) fail("dir", dir, "an absolute path of letters, digits, . _ / -");
    const waitS = g.waitS ?? FENCE_DEFAULTS.waitS;
    if (!Number.isInteger(waitS) || waitS < 1 || waitS > 3600) fail("waitS", waitS, "an integer from 1 to 3600");
    const fencedSleepS = g.fencedSleepS ?? FENCE_DEFAULTS.fencedSleepS;
    if (!Number.isInteger(fencedSleepS) || fencedSleepS < 0 || fencedSleepS > 3600) fail("fencedSleepS", fencedSleepS, "an integer from 0 to 3600");
    return { region: g.region, role: g.role, dir, waitS, fencedSleepS };
}

/**
 * POSIX-sh lines of the start gate, for a start script that runs `set -eu` and sets `$prog` (its log prefix).
 * Uses only sh, cat, date, sleep and awk (present in Spilo, the Redis images and busybox).
 */
export function fenceGateLines(g: FenceGateInput): string[] {
    const s = fenceGateSettings(g);
    // A member rendered as a standby takes no writes: no gate, and no dependency on the sync.
    if (s.role === "standby") return ["# Region fence (renderers/fence.ts): none for a member rendered as a standby (it takes no writes)."];
    return [
        "# Region fence (renderers/fence.ts): an old primary region restarted after the other region was promoted must not",
        "# take writes. Wait for a fence sync round newer than this start, then read the records of both regions' buckets.",
        `fence_dir='${s.dir}'`,
        `fence_region='${s.region}'`,
        `fence_role='${s.role}'`,
        "fence_t0=$(date +%s)",
        "fence_i=0",
        "while :; do",
        '    fence_checked=$(cat "$fence_dir/checked" 2>/dev/null || true)',
        '    case "$fence_checked" in "" | *[!0-9]*) fence_checked=0 ;; esac',
        // Strictly later: a round stamped in this start's own second may have begun (and copied) before it.
        '    [ "$fence_checked" -le "$fence_t0" ] || break',
        "    fence_i=$((fence_i + 1))",
        `    if [ "$fence_i" -gt ${s.waitS} ]; then`,
        `        echo "$prog: no fence sync round in $fence_dir/checked newer than this start after ${s.waitS} s (is the fence-sync service running on this host?): not starting" >&2`,
        "        exit 1",
        "    fi",
        "    sleep 1",
        "done",
        "fence_epoch=0",
        "fence_primary=",
        "fence_file=",
        'for f in "$fence_dir"/fence-*; do',
        '    [ -f "$f" ] || continue',
        "    e=$(awk -F= '$1 == \"epoch\" { print $2; exit }' \"$f\")",
        "    p=$(awk -F= '$1 == \"primary_region\" { print $2; exit }' \"$f\")",
        '    case "$e" in "" | *[!0-9]*) echo "$prog: ignoring $f: not a fence record" >&2; continue ;; esac',
        '    if [ "$e" -gt "$fence_epoch" ]; then fence_epoch=$e; fence_primary=$p; fence_file=$f; fi',
        "done",
        'if [ "$fence_role" = primary ] && [ -n "$fence_primary" ] && [ "$fence_primary" != "$fence_region" ]; then',
        '    echo "$prog: FENCED: region $fence_primary is the primary since fence epoch $fence_epoch ($fence_file, object ' + FENCE_DEFAULTS.key + ' of its WAL bucket);" \\',
        '        "this member of $fence_region is rendered as a primary and stays down: rebuild $fence_region as a standby of $fence_primary" \\',
        '        "(README \\"Region promotion\\", fail-back: pulumi config set role standby, then npm run promote -- copy-credentials and pulumi up)" >&2',
        `    sleep ${s.fencedSleepS}`,
        "    exit 1",
        "fi",
        'if [ "$fence_epoch" -gt 0 ]; then',
        '    echo "$prog: fence epoch $fence_epoch names $fence_primary the primary; this member of $fence_region is rendered as $fence_role: starting" >&2',
        "fi",
    ];
}

/** Where a fence sync reads one region's record: its WAL bucket, or (tests only) a directory standing in for it. */
export type FenceSource =
    | { readonly name: string; readonly kind: "s3"; readonly bucket: string; readonly region: string }
    | { readonly name: string; readonly kind: "dir"; readonly path: string };

/** Input of {@link renderFenceSync}. */
export interface FenceSyncInput {
    /** The records to copy: this region's bucket and the peer region's (each at FENCE_DEFAULTS.key). */
    readonly sources: readonly FenceSource[];
    /** The fence volume (default FENCE_DEFAULTS.dir). */
    readonly dir?: string;
    /** Seconds between rounds (default FENCE_DEFAULTS.intervalS). */
    readonly intervalS?: number;
}

/**
 * The fence sync loop (AWS CLI image, root): every round, each source's record is copied to `<dir>/fence-<name>`;
 * an absent record (S3 NoSuchKey) removes the copy (the operator cleared it); an unreadable source keeps the last
 * copy (a fence once seen is not forgotten because a bucket is unreachable) and says so. Then `<dir>/checked` gets
 * the time the round began, in seconds; a gate counts only a round stamped in a later second than its own start
 * (one stamped in the same second may have copied before it: seen in the region_redis_promotion bench, 2026-12-07).
 */
export function renderFenceSync(i: FenceSyncInput): string {
    const dir = i.dir ?? FENCE_DEFAULTS.dir;
    if (!PATH_RE.test(dir) || dir.includes("..")) fail("dir", dir, "an absolute path of letters, digits, . _ / -");
    const interval = i.intervalS ?? FENCE_DEFAULTS.intervalS;
    if (!Number.isInteger(interval) || interval < 1 || interval > 300) fail("intervalS", interval, "an integer from 1 to 300");
    if (i.sources.length < 1) fail("sources", i.sources, "at least this region's bucket");
    const names = new Set<string>();
    const rounds = i.sources.flatMap((s, n) => {
        if (!/^[a-z0-9-]{1,40}$/.test(s.name) || names.has(s.name)) fail(`sources[${n}].name`, s.name, "a unique name of a-z 0-9 -");
        names.add(s.name);
        const copy = `"$dir/fence-${s.name}"`;
        let fetch: string[];
        if (s.kind === "s3") {
            if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s.bucket)) fail(`sources[${n}].bucket`, s.bucket, "an S3 bucket name");
            if (!REGION_RE.test(s.region)) fail(`sources[${n}].region`, s.region, "an AWS region");
            fetch = [
                `    if bounded aws s3api get-object --cli-connect-timeout 5 --cli-read-timeout 10 --region '${s.region}' --bucket '${s.bucket}' --key '${FENCE_DEFAULTS.key}' "$tmp" >/dev/null 2>"$dir/.err"; then state=found`,
                `    elif grep -q NoSuchKey "$dir/.err"; then state=absent`,
                "    else state=unreadable; fi",
            ];
        } else if (s.kind === "dir") {
            if (!PATH_RE.test(s.path) || s.path.includes("..")) fail(`sources[${n}].path`, s.path, "an absolute path");
            fetch = [
                `    if [ ! -d '${s.path}' ]; then state=unreadable`,
                `    elif [ ! -e '${s.path}/${FENCE_DEFAULTS.key}' ]; then state=absent`,
                `    elif cp '${s.path}/${FENCE_DEFAULTS.key}' "$tmp" 2>"$dir/.err"; then state=found`,
                "    else state=unreadable; fi",
            ];
        } else {
            fail(`sources[${n}].kind`, (s as { kind: unknown }).kind, '"s3" or "dir"');
        }
        const where = s.kind === "s3" ? `s3://${s.bucket}/${FENCE_DEFAULTS.key}` : `${s.path}/${FENCE_DEFAULTS.key}`;
        return [
            `    # ${s.name}: ${where}`,
            `    tmp="$dir/.fence-${s.name}.tmp"`,
            ...fetch,
            "    case $state in",
            `        found) mv -f "$tmp" ${copy} ;;`,
            `        absent) rm -f "$tmp" ${copy} ;;`,
            `        *) rm -f "$tmp"; echo "ops-fence-sync: ${where} unreadable ($(head -c 300 "$dir/.err" 2>/dev/null)); keeping the last copy" >&2 ;;`,
            "    esac",
            `    if [ "$state" != "$(cat "$dir/.state-${s.name}" 2>/dev/null || true)" ]; then`,
            `        echo "ops-fence-sync: ${where}: $state" >&2`,
            `        echo "$state" > "$dir/.state-${s.name}"`,
            "    fi",
        ];
    });
    return [
        "#!/bin/sh",
        "# Copies the region fence record of each region's WAL bucket to this host's fence volume, every round, and stamps",
        "# the round's time in checked (the start gates of Spilo, Redis and Sentinel wait for it). Rendered by",
        "# ops-center-ha renderers/fence.ts.",
        "set -u",
        "umask 022",
        `dir='${dir}'`,
        'mkdir -p "$dir"',
        "# Every call bounded: a region whose S3 does not answer (the dead one) must not hold up the round, and so the gates.",
        "export AWS_MAX_ATTEMPTS=2 AWS_RETRY_MODE=standard",
        'bounded() { if command -v timeout >/dev/null 2>&1; then timeout 30 "$@"; else "$@"; fi; }',
        "while :; do",
        "    # The round's start: what checked says when the round is done (every copy below is newer than it).",
        "    round_t=$(date +%s)",
        ...rounds,
        '    echo "$round_t" > "$dir/.checked.tmp" && mv -f "$dir/.checked.tmp" "$dir/checked"',
        `    sleep ${interval}`,
        "done",
        "",
    ].join("\n");
}
