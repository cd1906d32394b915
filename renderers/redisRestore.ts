/**
 * Redis point-in-time restore: the init step that seeds an EMPTY Redis data volume from one of the hourly RDB
 * copies (`s3://<bucket>/redis/<region>/dump-<UTC>.rdb`, renderers/redisScripts.ts `renderRdbBackupScript`)
 * before redis-server starts, and the wait the node's start script does for it. Pure: input -> script text.
 *
 * Why it seeds the AOF directory, not `dump.rdb`: our redis.conf runs `appendonly yes`, and Redis 7 then loads only
 * the append-only files at start (`loadDataFromDisk`: the AOF when `aof_state == AOF_ON`, else the RDB), so a
 * `dump.rdb` on a fresh volume would be ignored and the node would start empty. Since Redis 7.0 the AOF is a
 * directory (`appenddirname`, default `appendonlydir`) with a manifest naming a base file that may be in RDB format
 * (`aof-use-rdb-preamble yes`, the default): the RDB copy becomes `appendonly.aof.1.base.rdb` and the manifest
 * line `file appendonly.aof.1.base.rdb seq 1 type b` (the format Redis itself writes, `aofInfoFormat`). The drill
 * (`scripts/drillFullSite.ts`) starts Debian's redis-server on a volume seeded this way and reads the keys back.
 *
 * A volume that already holds data (an `appendonlydir` or a `dump.rdb`) is never overwritten: the step only seeds a
 * new deployment (a new region or account), where every volume is empty. Either way it writes the marker the node's
 * start script waits for, then idles (a Swarm service runs until removed), healthy once the marker exists.
 */
import { REDIS_DEFAULTS, checkPath, fail } from "./redisDefaults";

/** Fixed names of the restore step. */
export const REDIS_RESTORE_DEFAULTS = {
    /** Where the script is mounted in the AWS CLI container (Swarm config, mode 0555). */
    scriptPath: "/usr/local/bin/ops-redis-restore.sh",
    /** Marker the restore step writes on the data volume when the volume is ready (seeded or left alone). */
    markerName: ".ops-restore-done",
    /** Redis 7's default `appenddirname` and `appendfilename`. */
    aofDir: "appendonlydir",
    aofBase: "appendonly.aof.1.base.rdb",
    aofManifest: "appendonly.aof.manifest",
    /** Seconds the node's start script waits for the marker before failing (Swarm then restarts it). */
    waitS: 900,
} as const;

/** Input of {@link renderRedisRestoreScript}. */
export interface RedisRestoreInput {
    /** Bucket holding the RDB copy. */
    readonly bucket: string;
    /** AWS region of that bucket. */
    readonly region: string;
    /** Key of the RDB copy, e.g. `redis/us-east-1/dump-20261129T130000Z.rdb`. */
    readonly key: string;
    /** The node's data volume as mounted in the restore container (default /data). */
    readonly dataDir?: string;
    /** Owner (uid:gid) of the seeded files: the Redis image's user. */
    readonly owner: string;
}

/** The marker path the node's start script waits for. */
export function redisRestoreMarker(dataDir: string = REDIS_DEFAULTS.dataDir): string {
    return `${dataDir}/${REDIS_RESTORE_DEFAULTS.markerName}`;
}

/** The init step: fetch the RDB copy into an empty volume as the AOF base, write the marker, idle. */
export function renderRedisRestoreScript(i: RedisRestoreInput): string {
    const R = REDIS_RESTORE_DEFAULTS;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(i.bucket)) fail("bucket", i.bucket, "an S3 bucket name");
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(i.region)) fail("region", i.region, "an AWS region such as us-east-1");
    if (!/^[A-Za-z0-9!_.*()\/-]+\.rdb$/.test(i.key) || i.key.startsWith("/")) fail("key", i.key, "an S3 key ending in .rdb without a leading /");
    if (!/^\d+:\d+$/.test(i.owner)) fail("owner", i.owner, "uid:gid");
    const data = checkPath("dataDir", i.dataDir ?? REDIS_DEFAULTS.dataDir);
    return [
        "#!/bin/sh",
        "# Seeds an empty Redis data volume from an RDB copy in S3 before redis-server starts (point-in-time restore).",
        "# Rendered by ops-center-ha renderers/redisRestore.ts.",
        "set -eu",
        `data='${data}'`,
        `bucket='${i.bucket}'`,
        `key='${i.key}'`,
        `region='${i.region}'`,
        `owner='${i.owner}'`,
        `marker="$data/${R.markerName}"`,
        'if [ ! -e "$marker" ]; then',
        `    if [ -e "$data/${R.aofDir}" ] || [ -e "$data/dump.rdb" ]; then`,
        '        echo "ops-redis-restore: $data already holds data: left as it is (only an empty volume is seeded)" >&2',
        "    else",
        '        tmp="$data/.ops-restore.tmp"',
        '        rm -rf "$tmp"',
        `        mkdir -p "$tmp/${R.aofDir}"`,
        `        aws s3 cp --only-show-errors --region "$region" "s3://$bucket/$key" "$tmp/${R.aofDir}/${R.aofBase}"`,
        "        # Every RDB file starts with the magic string REDIS.",
        `        if [ "$(head -c 5 "$tmp/${R.aofDir}/${R.aofBase}")" != REDIS ]; then`,
        '            echo "ops-redis-restore: s3://$bucket/$key is not an RDB file" >&2',
        "            exit 1",
        "        fi",
        `        printf 'file ${R.aofBase} seq 1 type b\\n' > "$tmp/${R.aofDir}/${R.aofManifest}"`,
        `        chown -R "$owner" "$tmp/${R.aofDir}"`,
        `        mv "$tmp/${R.aofDir}" "$data/${R.aofDir}"`,
        '        rmdir "$tmp"',
        '        echo "ops-redis-restore: seeded $data from s3://$bucket/$key"',
        "    fi",
        '    date -u +%s > "$marker"',
        "fi",
        "# Done: idle, so that the service stays converged (its health check is the marker).",
        "while :; do sleep 3600; done",
        "",
    ].join("\n");
}

/** Lines for the node's start script: wait (bounded) for the restore step's marker before redis-server starts. */
export function redisRestoreWaitLines(marker: string, waitS: number = REDIS_RESTORE_DEFAULTS.waitS): string[] {
    checkPath("marker", marker);
    const loops = Math.ceil(waitS / 2);
    return [
        "# Point-in-time restore: the restore step seeds this volume first; start only once it says so.",
        "i=0",
        `while [ ! -e '${marker}' ]; do`,
        "    i=$((i + 1))",
        `    if [ "$i" -gt ${loops} ]; then`,
        `        echo "ops-redis-start: the restore step has not finished after ${waitS} s (no ${marker})" >&2`,
        "        exit 1",
        "    fi",
        "    sleep 2",
        "done",
    ];
}
