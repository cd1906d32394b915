/**
 * Point-in-time restore of a NEW Spilo cluster from another cluster's WAL-G base backups and WAL: Spilo's own
 * clone-from-backup path, `CLONE_METHOD=CLONE_WITH_WALE`. Pure: no Pulumi, no I/O.
 *
 * What Spilo does with these variables (zalando/spilo, read at master):
 * - `postgres-appliance/scripts/configure_spilo.py` `get_placeholders`: `CLONE_METHOD == 'CLONE_WITH_WALE'` calls
 *   `set_extended_wale_placeholders(placeholders, 'CLONE_')`, which needs `CLONE_WALE_S3_PREFIX` or
 *   `CLONE_WALG_S3_PREFIX` (or `CLONE_WAL_S3_BUCKET` + `CLONE_SCOPE`) and sets the envdir
 *   `RW_DIR/etc/wal-e.d/env-clone-<CLONE_SCOPE>` (RW_DIR is /run, `spilo_commons.py`); for S3 it defaults
 *   `CLONE_USE_WALG=true`. Its `bootstrap` section then writes that envdir from the `CLONE_`-prefixed names
 *   (`write_wale_environment`: `CLONE_WALG_S3_PREFIX`, `CLONE_AWS_REGION`, `CLONE_USE_WALG_RESTORE`, ...).
 * - The same file's TEMPLATE renders `bootstrap.method: clone_with_wale` with
 *   `command: envdir "<envdir>" python3 /scripts/clone_with_wale.py --recovery-target-time="<CLONE_TARGET_TIME>"`
 *   and `recovery_conf` { restore_command: `envdir "<envdir>" timeout "<WAL_RESTORE_TIMEOUT>"
 *   /scripts/restore_command.sh "%f" "%p"`, recovery_target_timeline: `<CLONE_TARGET_TIMELINE>` (default
 *   latest), recovery_target_action: promote (unless USE_PAUSE_AT_RECOVERY_TARGET), recovery_target_time:
 *   `<CLONE_TARGET_TIME>` } (recovery_target_inclusive stays Postgres's default, true, unless
 *   CLONE_TARGET_INCLUSIVE is empty).
 * - `postgres-appliance/bootstrap/clone_with_wale.py`: lists the backups (`wal-g backup-list`), picks the latest
 *   one that started before the target time (`choose_backup`), `wal-g backup-fetch`es it into the data
 *   directory; Patroni then starts Postgres with the `recovery_conf` above, replays WAL up to the target and
 *   promotes. The target time must carry a time zone (it raises otherwise).
 * We render the `bootstrap` section ourselves too (`spiloCloneBootstrap`, in SPILO_CONFIGURATION, which wins
 * key by key over Spilo's template: `deep_update(user_config, config)`), identical to the template's, so that the
 * bench (`bench/cases/pitrRestore.ts`) runs the very same section under Patroni with only the two commands
 * swapped for the local-directory stand-in of the bucket.
 */
import { walS3Prefix } from "./spiloPaths";

/** Where and up to when a new cluster is cloned from. */
export interface SpiloRestoreSource {
    /** Bucket with the source cluster's WAL-G base backups and WAL. */
    readonly fromBucket: string;
    /** AWS region of that bucket. */
    readonly bucketRegion: string;
    /** Region whose cluster wrote the backups (part of the WAL-G path). */
    readonly fromRegion: string;
    /** Scope of the source cluster (part of the WAL-G path and of Spilo's clone envdir name). */
    readonly fromScope: string;
    /** Recovery target, RFC 3339 with an offset (validated by config/restore.ts). */
    readonly targetTime: string;
}

/** Spilo's fixed names for the clone path. */
export const SPILO_CLONE = {
    method: "clone_with_wale",
    cloneScript: "/scripts/clone_with_wale.py",
    restoreScript: "/scripts/restore_command.sh",
    /** Spilo's RW_DIR (spilo_commons.py). */
    rwDir: "/run",
    /** Spilo's WAL_RESTORE_TIMEOUT default ("0": no timeout). */
    walRestoreTimeout: "0",
} as const;

/** Spilo's clone envdir for a source scope: `RW_DIR/etc/wal-e.d/env-clone-<CLONE_SCOPE>`. */
export function spiloCloneEnvDir(fromScope: string): string {
    return `${SPILO_CLONE.rwDir}/etc/wal-e.d/env-clone-${fromScope}`;
}

function check(src: SpiloRestoreSource): void {
    const fail = (f: string, v: string, allowed: string) => {
        throw new Error(`spilo restore: ${f} = ${JSON.stringify(v)} is invalid: ${allowed}`);
    };
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(src.fromBucket)) fail("fromBucket", src.fromBucket, "must be an S3 bucket name");
    for (const f of ["bucketRegion", "fromRegion"] as const) if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(src[f])) fail(f, src[f], "must be an AWS region");
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(src.fromScope)) fail("fromScope", src.fromScope, "must be a Patroni scope");
    // Spilo's clone_with_wale.py raises on a target without a time zone; the quotes in its command must stay balanced.
    if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$/.test(src.targetTime)) {
        fail("targetTime", src.targetTime, "must be RFC 3339 with seconds and an offset");
    }
}

/**
 * The target as Postgres's `recovery_target_time` must get it: PostgreSQL's documentation of that setting says the
 * value is a timestamp "in the same format accepted by the timestamp with time zone data type, except that you
 * cannot use a time zone abbreviation (unless the timezone_abbreviations variable has been set earlier in the
 * configuration file). Preferred style is to use a numeric offset from UTC". RFC 3339's `Z` is such an
 * abbreviation: Postgres 15 refuses to start with `invalid value for parameter "recovery_target_time"` (found by
 * bench/cases/pitrRestore.ts). So `Z` becomes `+00:00`; a numeric offset stays as written.
 */
export function postgresTargetTime(rfc3339: string): string {
    return rfc3339.replace(/[Zz]$/, "+00:00").replace(/^(\d{4}-\d{2}-\d{2})t/, "$1T");
}

/** The `CLONE_*` variables that make Spilo bootstrap the new cluster from `src` (see the file comment). */
export function spiloCloneEnvironment(src: SpiloRestoreSource, pgVersion: number): Record<string, string> {
    check(src);
    const prefix = walS3Prefix(src.fromBucket, src.fromScope, src.fromRegion, pgVersion);
    return {
        CLONE_METHOD: "CLONE_WITH_WALE",
        CLONE_SCOPE: src.fromScope,
        CLONE_TARGET_TIME: postgresTargetTime(src.targetTime),
        // The full path (with the Postgres major): clone_with_wale.py uses it as given (it only probes versions
        // for a prefix that ends in /wal).
        CLONE_WALG_S3_PREFIX: prefix,
        CLONE_WALE_S3_PREFIX: prefix,
        // The bucket's region, not the writer's (a replicated copy lives in the other region under the writer's path).
        CLONE_AWS_REGION: src.bucketRegion,
        CLONE_USE_WALG_RESTORE: "true",
    };
}

/** Input of {@link spiloCloneBootstrap}: the target, and (for the bench's stand-in only) the two commands. */
export interface CloneBootstrapInput {
    readonly fromScope: string;
    readonly targetTime: string;
    /** Default: Spilo's `envdir "<envdir>" python3 /scripts/clone_with_wale.py --recovery-target-time="<t>"`. */
    readonly command?: string;
    /** Default: Spilo's `envdir "<envdir>" timeout "0" /scripts/restore_command.sh "%f" "%p"`. */
    readonly restoreCommand?: string;
}

/** Patroni's `bootstrap` keys for the clone (method + custom method section), as Spilo's TEMPLATE renders them. */
export function spiloCloneBootstrap(input: CloneBootstrapInput): Record<string, unknown> {
    const envDir = spiloCloneEnvDir(input.fromScope);
    const target = postgresTargetTime(input.targetTime);
    return {
        method: SPILO_CLONE.method,
        [SPILO_CLONE.method]: {
            command: input.command ?? `envdir "${envDir}" python3 ${SPILO_CLONE.cloneScript} --recovery-target-time="${target}"`,
            recovery_conf: {
                restore_command: input.restoreCommand ?? `envdir "${envDir}" timeout "${SPILO_CLONE.walRestoreTimeout}" ${SPILO_CLONE.restoreScript} "%f" "%p"`,
                recovery_target_timeline: "latest",
                recovery_target_action: "promote",
                recovery_target_time: target,
            },
        },
    };
}
