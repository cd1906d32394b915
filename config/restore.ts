/**
 * The `restore` config key: bootstrap a NEW Postgres cluster (and seed Redis) from this program's backups
 * (WAL-G base backups + WAL, the hourly RDB copy) in a bucket, up to a point in time. Pure: text in, a typed
 * `RestoreConfig` or problem lines (key, bad value, what is allowed) out.
 *
 * Set it as a structured value:
 *   pulumi config set --path 'restore.fromBucket' ops-center-ha-us-east-1-wal-123456789012
 *   pulumi config set --path 'restore.targetTime' 2026-11-29T14:01:00Z
 *   pulumi config set --path 'restore.kmsKeyArn' arn:aws:kms:us-east-1:123456789012:key/...
 * The engine hands a structured value to the program as JSON text (`config.get("restore")`).
 */

/** A validated `restore` value. */
export interface RestoreConfig {
    /** The bucket holding the WAL-G base backups and WAL (and the RDB copies) to restore from. */
    readonly fromBucket: string;
    /** AWS region of that bucket (default: `fromRegion`). */
    readonly bucketRegion: string;
    /** The region whose cluster wrote the backups: part of the WAL-G path `spilo/<scope>/<region>/wal/<pg>` (default: this stack's region). */
    readonly fromRegion: string;
    /** The source cluster's Patroni scope (default `ops-center`; a cluster restored earlier has its own). */
    readonly fromScope: string;
    /** Recovery target, RFC 3339 with an explicit offset (Postgres `recovery_target_time`). */
    readonly targetTime: string;
    /** The KMS key the bucket's objects are encrypted with (the hosts get `kms:Decrypt` on exactly this key). */
    readonly kmsKeyArn: string;
    /** Key of the RDB copy that seeds Redis (e.g. `redis/us-east-1/dump-20261129T130000Z.rdb`); Redis starts empty without it. */
    readonly redisRdbKey?: string;
    /** The restored cluster's own scope (its DCS keys, its WAL path, its volumes): derived from `targetTime`. */
    readonly scope: string;
}

/** Fields `restore` accepts, in the order the README lists them. */
export const RESTORE_FIELDS = ["fromBucket", "targetTime", "kmsKeyArn", "fromScope", "fromRegion", "bucketRegion", "redisRdbKey"] as const;

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const SCOPE = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** RFC 3339 date-time (section 5.6) with seconds and an explicit offset: `Z` or `+hh:mm` / `-hh:mm`. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([Zz]|[+-](\d{2}):(\d{2}))$/;
/** KMS key ARN (`key/<uuid>` or a multi-Region `key/mrk-<32 hex>`), any partition. */
const KMS_KEY_ARN = /^arn:aws(-[a-z]+)*:kms:([a-z]{2}(-gov)?-[a-z]+-\d):(\d{12}):key\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

/**
 * S3 general purpose bucket naming rules (S3 User Guide, "General purpose bucket naming rules"): 3-63 characters;
 * lower-case letters, digits, dots and hyphens; begins and ends with a letter or digit; no two adjacent dots; not
 * an IP address; not starting with `xn--`, `sthree-`, `amzn-s3-demo-`; not ending with `-s3alias`, `--ol-s3`,
 * `.mrap`, `--x-s3`, `--table-s3`. Returns what is wrong, or undefined.
 */
export function bucketNameProblem(name: string): string | undefined {
    if (name.length < 3 || name.length > 63) return `must be 3 to 63 characters long (is ${name.length})`;
    if (!/^[a-z0-9.-]+$/.test(name)) return "must contain only lower-case letters, digits, '.' and '-'";
    if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return "must begin and end with a letter or digit";
    if (name.includes("..")) return "must not contain two adjacent dots";
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return "must not be formatted as an IP address";
    for (const p of ["xn--", "sthree-", "amzn-s3-demo-"]) if (name.startsWith(p)) return `must not start with the reserved prefix ${p}`;
    for (const s of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) if (name.endsWith(s)) return `must not end with the reserved suffix ${s}`;
    return undefined;
}

/** Whether `text` is an RFC 3339 date-time with an offset that names a real instant; the instant in ms, or undefined. */
export function parseRfc3339(text: string): number | undefined {
    const m = RFC3339.exec(text);
    if (!m) return undefined;
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
    const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (d < 1 || d > daysInMonth) return undefined;
    if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
    const ms = Date.parse(text.replace(" ", "T"));
    return Number.isNaN(ms) ? undefined : ms;
}

/** The restored cluster's scope: `<base>-r<UTC yyyymmddhhmmss of targetTime>`, stable for one restore, new for the next. */
export function restoredScope(base: string, targetMs: number): string {
    const t = new Date(targetMs).toISOString().replace(/[-:T]/g, "").slice(0, 14);
    return `${base}-r${t}`;
}

/** Input of {@link parseRestore}. */
export interface RestoreContext {
    /** This stack's region (default of `fromRegion`). */
    readonly region: string;
    /** This stack's role: only a primary region restores (a standby copies its primary). */
    readonly role: "primary" | "standby";
    /** Scope of this program's clusters (default of `fromScope`, base of the restored scope). */
    readonly defaultScope: string;
    /** "Now", for rejecting a target in the future; default the clock. */
    readonly now?: number;
}

/**
 * Parses and validates the `restore` key's JSON text. `problems` gets one line per problem, each naming
 * `<ns>:restore.<field>`, the bad value and what is allowed.
 */
export function parseRestore(key: string, text: string, ctx: RestoreContext, problems: string[]): RestoreConfig | undefined {
    const at = (field: string) => `${key}.${field}`;
    const bad = (field: string, value: unknown, allowed: string) => problems.push(`${at(field)} = ${JSON.stringify(String(value))}: ${allowed}`);
    const before = problems.length;
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch {
        problems.push(`${key} = ${JSON.stringify(text)}: must be an object { fromBucket, targetTime, kmsKeyArn, ... } (set it with pulumi config set --path 'restore.fromBucket' <bucket>)`);
        return undefined;
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        problems.push(`${key} = ${JSON.stringify(text)}: must be an object { fromBucket, targetTime, kmsKeyArn, ... }`);
        return undefined;
    }
    const obj = raw as Record<string, unknown>;
    for (const f of Object.keys(obj)) {
        if (!(RESTORE_FIELDS as readonly string[]).includes(f)) bad(f, typeof obj[f] === "string" ? obj[f] : JSON.stringify(obj[f]), `is not a field of restore; allowed: ${RESTORE_FIELDS.join(", ")}`);
    }
    const str = (f: string, required: boolean): string | undefined => {
        const v = obj[f];
        if (v === undefined || v === "") {
            if (required) problems.push(`${at(f)} is required when restore is set`);
            return undefined;
        }
        if (typeof v !== "string") {
            bad(f, JSON.stringify(v), "must be a string");
            return undefined;
        }
        return v;
    };
    if (ctx.role !== "primary") {
        problems.push(`${key} is set on a region whose role is ${ctx.role}: only a primary region restores (a standby cluster copies its primary; promote it first)`);
    }

    const fromBucket = str("fromBucket", true);
    if (fromBucket !== undefined) {
        const p = bucketNameProblem(fromBucket);
        if (p) bad("fromBucket", fromBucket, `${p} (an S3 bucket name)`);
    }
    const targetTime = str("targetTime", true);
    let targetMs: number | undefined;
    if (targetTime !== undefined) {
        targetMs = parseRfc3339(targetTime);
        if (targetMs === undefined) bad("targetTime", targetTime, "must be an RFC 3339 date-time with seconds and an offset, e.g. 2026-11-29T14:01:00Z or 2026-11-29T15:01:00+01:00");
        else if (targetMs > (ctx.now ?? Date.now())) bad("targetTime", targetTime, "must not be in the future (Postgres stops with 'recovery ended before configured recovery target was reached')");
    }
    const fromRegion = str("fromRegion", false) ?? ctx.region;
    if (!AWS_REGION.test(fromRegion)) bad("fromRegion", fromRegion, "must be an AWS region such as us-east-1 (the region whose cluster wrote the backups)");
    const bucketRegion = str("bucketRegion", false) ?? fromRegion;
    if (!AWS_REGION.test(bucketRegion)) bad("bucketRegion", bucketRegion, "must be an AWS region such as us-west-2 (where fromBucket lives)");
    const fromScope = str("fromScope", false) ?? ctx.defaultScope;
    if (!SCOPE.test(fromScope)) bad("fromScope", fromScope, "must be a Patroni scope: lower-case letters, digits and -, at most 63");
    const kmsKeyArn = str("kmsKeyArn", true);
    if (kmsKeyArn !== undefined) {
        const m = KMS_KEY_ARN.exec(kmsKeyArn);
        if (!m) bad("kmsKeyArn", kmsKeyArn, "must be a KMS key ARN arn:aws:kms:<region>:<account>:key/<key id> (aliases are not allowed: IAM grants on keys need the key ARN)");
        else if (m[2] !== bucketRegion) bad("kmsKeyArn", kmsKeyArn, `must be a key in the bucket's region ${bucketRegion} (S3 encrypts with a key of its own region)`);
    }
    const redisRdbKey = str("redisRdbKey", false);
    if (redisRdbKey !== undefined && (!/^[A-Za-z0-9!_.*'()\/-]+\.rdb$/.test(redisRdbKey) || redisRdbKey.startsWith("/") || redisRdbKey.includes("//") || redisRdbKey.length > 1024)) {
        bad("redisRdbKey", redisRdbKey, "must be an S3 object key ending in .rdb, without a leading /, such as redis/us-east-1/dump-20261129T130000Z.rdb");
    }
    if (problems.length > before || !fromBucket || !targetTime || targetMs === undefined || !kmsKeyArn) return undefined;
    const scope = restoredScope(ctx.defaultScope, targetMs);
    if (scope === fromScope) bad("fromScope", fromScope, `must differ from the restored cluster's scope ${scope}`);
    if (problems.length > before) return undefined;
    return { fromBucket, bucketRegion, fromRegion, fromScope, targetTime, kmsKeyArn, redisRdbKey, scope };
}
