/**
 * Production defaults and input checks shared by the Redis renderers (./redis, ./redisScripts).
 * Import the public API from ./redis, which re-exports what the Pulumi component needs.
 */

/** Production values shared by the Pulumi component and the tests. */
export const REDIS_DEFAULTS = {
    /** Redis port inside the overlay network. */
    port: 6379,
    /** Sentinel port inside the overlay network. */
    sentinelPort: 26379,
    /** Name the sentinels monitor the master under (clients ask for it). */
    masterName: "opscenter",
    /** Sentinels in the primary region. */
    sentinels: 3,
    /** Sentinels that must agree the master is down (a majority of 3). */
    quorum: 2,
    /** Master unreachable this long before a sentinel calls it subjectively down. */
    downAfterMs: 5_000,
    /** Replicas resynchronised with the new master at a time, so the others keep serving reads. */
    parallelSyncs: 1,
    /** See the comment rendered above `sentinel failover-timeout`. */
    failoverTimeoutMs: 60_000,
    /** The master refuses writes with fewer healthy replicas than this. */
    minReplicasToWrite: 1,
    /** A replica is healthy for `minReplicasToWrite` when its last ACK is at most this old (seconds). */
    minReplicasMaxLagS: 10,
    /** Sentinel's default priority for a promotable replica. */
    replicaPriority: 100,
    /** Data volume of every Redis and Sentinel container. */
    dataDir: "/data",
    /** Listen on every interface (the overlay network); `-::*` makes IPv6 optional. */
    bind: "* -::*",
    /** Where the Swarm config holding the rendered redis.conf is mounted (read-only). */
    redisConfSource: "/usr/local/etc/redis/redis.conf",
    /** Writable copy redis-server runs from (Sentinel's CONFIG REWRITE records the node's role there). */
    redisConfPath: "/data/redis.conf",
    /** Where the Swarm config holding the rendered sentinel.conf is mounted (read-only). */
    sentinelConfSource: "/usr/local/etc/redis/sentinel.conf",
    /** Writable copy redis-sentinel runs from and rewrites with what it learns. */
    sentinelConfPath: "/data/sentinel.conf",
    /** Swarm secret with the Redis password (one line, [A-Za-z0-9._~+/=-], at least 16 characters). */
    passwordFile: "/run/secrets/redis_password",
    /** Where the start scripts are mounted (Swarm config, mode 0555); run them with `sh <path>`. */
    redisStartPath: "/usr/local/bin/ops-redis-start.sh",
    sentinelStartPath: "/usr/local/bin/ops-sentinel-start.sh",
    backupScriptPath: "/usr/local/bin/ops-redis-backup.sh",
    /** Seconds between two RDB copies to S3 (the design's hourly S3 sync). */
    backupIntervalS: 3_600,
    /** Scratch directory of the backup sidecar. */
    backupWorkDir: "/tmp/redis-backup",
} as const;

/** @internal Throws an Error naming the field, the bad value and what is allowed. */
/** A host and port as other nodes reach it. */
export interface RedisAddress {
    /** Hostname (Swarm service DNS name) or IP address. */
    readonly host: string;
    /** TCP port. */
    readonly port: number;
}

export function fail(field: string, value: unknown, allowed: string): never {
    throw new Error(`redis: ${field} is ${JSON.stringify(value)}; allowed: ${allowed}`);
}

/** @internal Integer in [min, max] or throws naming the field. */
export function checkInt(field: string, v: number, min: number, max: number): number {
    if (!Number.isInteger(v) || v < min || v > max) fail(field, v, `an integer from ${min} to ${max}`);
    return v;
}

/** @internal Port number or throws. */
export function checkPort(field: string, v: number): number {
    return checkInt(field, v, 1, 65_535);
}

/** @internal Hostname or IPv4/IPv6 address (no spaces, quotes or shell characters) or throws. */
export function checkHost(field: string, v: string): string {
    if (typeof v !== "string" || !/^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})$/.test(v)) {
        fail(field, v, "a hostname or IP address (letters, digits, '.', '-', ':')");
    }
    return v;
}

/** @internal Absolute path made of safe characters (it is pasted into sh scripts) or throws. */
export function checkPath(field: string, v: string): string {
    if (typeof v !== "string" || !/^\/[A-Za-z0-9._\/-]*$/.test(v) || v.includes("..")) {
        fail(field, v, "an absolute path of letters, digits, '.', '_', '-' and '/' without '..'");
    }
    return v;
}

/** @internal Sentinel master name or throws. */
export function checkMasterName(field: string, v: string): string {
    if (typeof v !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(v)) fail(field, v, "1-64 letters, digits, '.', '_' or '-'");
    return v;
}

/** @internal Redis `bind` value or throws. */
export function checkBind(field: string, v: string): string {
    if (typeof v !== "string" || !/^-?[A-Za-z0-9.:*]+( -?[A-Za-z0-9.:*]+)*$/.test(v)) {
        fail(field, v, "space-separated addresses, '*' or '-::*'");
    }
    return v;
}

