/**
 * Patroni cluster-wide (DCS) settings: the failover timings and replication safety that both the
 * production Spilo containers and the chaos test's Debian Patroni bootstrap with.
 *
 * Pure: no Pulumi, no I/O. `renderers/patroni.ts` re-exports everything here.
 */
import { TCP_KEEPALIVE } from "../lib/keepalive";

/** Cluster-wide Patroni settings (written to `bootstrap.dcs`, then owned by the DCS). */
export interface PatroniSettings {
    /** Leader lock TTL, seconds. Patroni 4 raises anything below 20 to 20, so 20 is the floor. */
    readonly ttl: number;
    /** Seconds between runs of Patroni's HA loop (leader lock renewal period). */
    readonly loopWait: number;
    /** Seconds Patroni retries DCS and Postgres operations before giving up (must satisfy loopWait + 2*retryTimeout <= ttl). */
    readonly retryTimeout: number;
    /** Seconds a crashed primary may spend recovering in place before Patroni fails over instead. */
    readonly primaryStartTimeout: number;
    /** Synchronous replication: a commit returns only once the synchronous standby has it; only that standby may be promoted. */
    readonly synchronousMode: boolean;
    /**
     * Patroni `synchronous_node_count`: synchronous standbys the leader waits for. 1: with 3 members the third is
     * asynchronous until a failover, when the new leader makes it synchronous (before it acknowledges a commit that
     * only it holds, Patroni 4 `_process_multisync_replication`).
     */
    readonly synchronousNodeCount: number;
    /**
     * Patroni `synchronous_mode_strict`. false: a leader with no replica left keeps accepting writes (one copy until a
     * replica returns); true: it blocks every write until one returns. Either way only a member Patroni recorded as
     * synchronous is promoted, so no acknowledged commit is lost to a failover.
     */
    readonly synchronousModeStrict: boolean;
    /** Bytes of replication lag above which a replica may not be promoted. */
    readonly maximumLagOnFailover: number;
    /** Postgres `archive_timeout`, seconds: forces a WAL segment switch (and so an upload) at least this often (RPO). */
    readonly archiveTimeoutSeconds: number;
    /** Postgres `max_wal_senders`. */
    readonly maxWalSenders: number;
    /** Postgres `max_replication_slots`. */
    readonly maxReplicationSlots: number;
    /** Postgres `max_connections` (must be the same on every member). */
    readonly maxConnections: number;
}

/** Production values. Every field of {@link PatroniSettings} plus the pinned image and well-known ports. */
export const PATRONI_DEFAULTS = {
    ttl: 20,
    // Patroni notices a crashed postmaster within one loop (bench postgres_restart prints that phase).
    loopWait: 2,
    retryTimeout: 5,
    primaryStartTimeout: 10,
    synchronousMode: true,
    synchronousNodeCount: 1,
    synchronousModeStrict: false,
    maximumLagOnFailover: 1_048_576,
    archiveTimeoutSeconds: 60,
    maxWalSenders: 10,
    maxReplicationSlots: 10,
    maxConnections: 200,
    /** Spilo image (Patroni 4 inside); `PGVERSION` selects the Postgres major inside it. */
    image: "ghcr.io/zalando/spilo-17:4.0-p3",
    pgVersion: 16,
    scope: "ops-center",
    namespace: "/service/",
    postgresPort: 5432,
    restApiPort: 8008,
    superuserName: "postgres",
    replicationUserName: "standby",
} as const;

/** Where a standby cluster (standby region) streams from, and how it falls back to the WAL archive. */
export interface StandbyClusterSource {
    /**
     * Host(s) of the primary region's leader endpoint, comma-separated (libpq multi-host: tried in order until
     * one connects), e.g. every primary data host's address, each publishing HAProxy's leader port.
     */
    readonly host: string;
    /** Port of that endpoint (HAProxy's leader port, 5000 in production). */
    readonly port: number;
    /** Replica creation methods, tried in order (e.g. WAL-G bootstrap, then pg_basebackup). */
    readonly createReplicaMethods: readonly string[];
    /** `restore_command` used when streaming is unavailable (WAL-G from the replicated bucket); omit for none. */
    readonly restoreCommand?: string;
}

function requireInt(field: string, v: number, min: number, max: number, why: string): void {
    if (!Number.isInteger(v) || v < min || v > max) {
        throw new Error(`patroni: ${field} = ${String(v)} is invalid: must be an integer from ${min} to ${max} (${why})`);
    }
}

/**
 * Checks the settings against what Patroni 4 keeps: ttl >= 20, loop_wait >= 1, retry_timeout >= 3 and
 * loop_wait + 2*retry_timeout <= ttl (otherwise Patroni silently shrinks loop_wait/retry_timeout).
 * Throws an Error naming the field, its value and what is allowed.
 */
export function validatePatroniSettings(s: PatroniSettings): void {
    requireInt("ttl", s.ttl, 20, 3600, "Patroni 4 raises a ttl below 20 to 20");
    requireInt("loopWait", s.loopWait, 1, 3600, "seconds between HA loops");
    requireInt("retryTimeout", s.retryTimeout, 3, 3600, "Patroni 4 raises a retry_timeout below 3");
    if (s.loopWait + 2 * s.retryTimeout > s.ttl) {
        throw new Error(
            `patroni: loopWait + 2*retryTimeout = ${s.loopWait} + 2*${s.retryTimeout} = ${s.loopWait + 2 * s.retryTimeout} ` +
                `exceeds ttl = ${s.ttl}: must be <= ttl, or Patroni silently changes loop_wait/retry_timeout`,
        );
    }
    requireInt("primaryStartTimeout", s.primaryStartTimeout, 0, 3600, "0 fails over at once, larger waits for crash recovery in place");
    if (typeof s.synchronousMode !== "boolean") {
        throw new Error(`patroni: synchronousMode = ${String(s.synchronousMode)} is invalid: must be true or false`);
    }
    requireInt("synchronousNodeCount", s.synchronousNodeCount, 1, 10, "synchronous standbys the leader waits for");
    if (typeof s.synchronousModeStrict !== "boolean") {
        throw new Error(`patroni: synchronousModeStrict = ${String(s.synchronousModeStrict)} is invalid: must be true or false`);
    }
    requireInt("maximumLagOnFailover", s.maximumLagOnFailover, 0, 1024 * 1024 * 1024, "bytes");
    requireInt("archiveTimeoutSeconds", s.archiveTimeoutSeconds, 1, 300, "the RPO target is 5 minutes");
    requireInt("maxWalSenders", s.maxWalSenders, 2, 1000, "at least one per replica plus one for backups");
    requireInt("maxReplicationSlots", s.maxReplicationSlots, 2, 1000, "at least one per replica");
    requireInt("maxConnections", s.maxConnections, 10, 100_000, "Postgres max_connections");
}

/** Checks a standby cluster source; throws naming the field. */
export function validateStandbySource(src: StandbyClusterSource): void {
    if (!/^[A-Za-z0-9.-]+(,[A-Za-z0-9.-]+)*$/.test(src.host) || new Set(src.host.split(",")).size !== src.host.split(",").length) {
        throw new Error(`patroni: standby.host = ${JSON.stringify(src.host)} is invalid: must be host names or IPv4 addresses, comma-separated, without repeats`);
    }
    requireInt("standby.port", src.port, 1, 65535, "TCP port");
    if (src.createReplicaMethods.length === 0 || src.createReplicaMethods.some((m) => !/^[a-z_][a-z0-9_]*$/.test(m))) {
        throw new Error(
            `patroni: standby.createReplicaMethods = ${JSON.stringify(src.createReplicaMethods)} is invalid: ` +
                `must be a non-empty list of method names (lower case, digits, _)`,
        );
    }
    if (src.restoreCommand !== undefined && (src.restoreCommand.trim() === "" || /[\r\n]/.test(src.restoreCommand))) {
        throw new Error(`patroni: standby.restoreCommand = ${JSON.stringify(src.restoreCommand)} is invalid: must be one non-empty line`);
    }
}

/** The settings to use: `PATRONI_DEFAULTS` overridden by `overrides`, validated. */
export function patroniSettings(overrides: Partial<PatroniSettings> = {}): PatroniSettings {
    const s: PatroniSettings = {
        ttl: overrides.ttl ?? PATRONI_DEFAULTS.ttl,
        loopWait: overrides.loopWait ?? PATRONI_DEFAULTS.loopWait,
        retryTimeout: overrides.retryTimeout ?? PATRONI_DEFAULTS.retryTimeout,
        primaryStartTimeout: overrides.primaryStartTimeout ?? PATRONI_DEFAULTS.primaryStartTimeout,
        synchronousMode: overrides.synchronousMode ?? PATRONI_DEFAULTS.synchronousMode,
        synchronousNodeCount: overrides.synchronousNodeCount ?? PATRONI_DEFAULTS.synchronousNodeCount,
        synchronousModeStrict: overrides.synchronousModeStrict ?? PATRONI_DEFAULTS.synchronousModeStrict,
        maximumLagOnFailover: overrides.maximumLagOnFailover ?? PATRONI_DEFAULTS.maximumLagOnFailover,
        archiveTimeoutSeconds: overrides.archiveTimeoutSeconds ?? PATRONI_DEFAULTS.archiveTimeoutSeconds,
        maxWalSenders: overrides.maxWalSenders ?? PATRONI_DEFAULTS.maxWalSenders,
        maxReplicationSlots: overrides.maxReplicationSlots ?? PATRONI_DEFAULTS.maxReplicationSlots,
        maxConnections: overrides.maxConnections ?? PATRONI_DEFAULTS.maxConnections,
    };
    validatePatroniSettings(s);
    return s;
}

/**
 * The `bootstrap.dcs` section as a plain object (to be YAML-stringified). The key is
 * `primary_start_timeout`: Patroni >= 3.0 (including the Debian 3.0.2 used by the chaos test and Patroni 4
 * in Spilo) reads it and maps the old `master_start_timeout` onto it, so one key works for both.
 * With `standby`, the cluster is a standby cluster replicating from another region.
 */
export function patroniDcsSection(s: PatroniSettings, standby?: StandbyClusterSource): Record<string, unknown> {
    validatePatroniSettings(s);
    const dcs: Record<string, unknown> = {
        ttl: s.ttl,
        loop_wait: s.loopWait,
        retry_timeout: s.retryTimeout,
        primary_start_timeout: s.primaryStartTimeout,
        synchronous_mode: s.synchronousMode,
        // One synchronous standby; the leader waits for it alone, so losing the asynchronous third member costs writes nothing.
        synchronous_node_count: s.synchronousNodeCount,
        // Not strict: with every replica gone, the leader keeps accepting writes (availability over a second copy).
        synchronous_mode_strict: s.synchronousModeStrict,
        maximum_lag_on_failover: s.maximumLagOnFailover,
        // DCS failsafe mode (Patroni >= 3.0; docs "DCS Failsafe Mode"): when the leader cannot update its lock because
        // etcd is unreachable (lost quorum: two etcd members down at once during host replacements or a roll), it
        // stays primary as long as every member of the cluster (the /failsafe key) answers its POST /failsafe over
        // the REST API, instead of demoting itself and stopping writes although Postgres is healthy. A leader that
        // cannot reach a member still demotes, and with etcd down no member can take the lock, so no split brain.
        failsafe_mode: true,
        postgresql: {
            use_pg_rewind: true,
            use_slots: true,
            parameters: {
                wal_level: "replica",
                hot_standby: "on",
                wal_log_hints: "on",
                archive_mode: "on",
                archive_timeout: s.archiveTimeoutSeconds,
                max_wal_senders: s.maxWalSenders,
                max_replication_slots: s.maxReplicationSlots,
                max_connections: s.maxConnections,
                // Crash recovery starts with one syncfs() per file system instead of an fsync() of every file in
                // the data directory: measured as the largest part of a postmaster restart (bench postgres_restart).
                recovery_init_sync_method: "syncfs",
                // Clients reach Postgres through HAProxy and Swarm service VIPs (IPVS), which drop a flow idle for
                // 900 s (moby/moby#31208): the server probes an idle connection well before that (lib/keepalive.ts).
                // Postgres applies them to TCP connections only (a Unix-socket session reads 0).
                tcp_keepalives_idle: TCP_KEEPALIVE.idleSeconds,
                tcp_keepalives_interval: TCP_KEEPALIVE.intervalSeconds,
                tcp_keepalives_count: TCP_KEEPALIVE.count,
            },
        },
    };
    if (standby) {
        validateStandbySource(standby);
        const sc: Record<string, unknown> = {
            host: standby.host,
            port: standby.port,
            create_replica_methods: [...standby.createReplicaMethods],
        };
        if (standby.restoreCommand !== undefined) sc.restore_command = standby.restoreCommand;
        dcs.standby_cluster = sc;
    }
    return dcs;
}

/** What the settings imply for failover time, in seconds (Patroni's part; add ~1 s for HAProxy's `rise`). */
export interface ImpliedFailover {
    /** Host crash (Patroni and Postgres gone): the leader lock expires ttl after its last renewal, renewed every loop_wait. */
    readonly hostCrash: { readonly min: number; readonly max: number; readonly typical: number };
    /** Planned switchover or a clean stop of the leader's Patroni: the lock is released at once, about one loop. */
    readonly switchover: number;
    /** Postmaster crash with Patroni alive: detected within one loop, restarted in place (no failover). */
    readonly postmasterCrash: number;
    /** Longest a crashed primary may take to recover in place before Patroni fails over instead. */
    readonly crashRecoveryLimit: number;
    /** One sentence for the README. */
    readonly summary: string;
}

/** States the failover time these values imply (for the README and the benchmark's expectations). */
export function impliedFailoverSeconds(s: PatroniSettings): ImpliedFailover {
    validatePatroniSettings(s);
    const hostCrash = { min: s.ttl - s.loopWait, max: s.ttl + s.loopWait, typical: s.ttl };
    const summary =
        `host crash: the leader lock expires ${hostCrash.min}-${s.ttl} s after the crash (ttl ${s.ttl} s, renewed every ` +
        `loop_wait ${s.loopWait} s), the synchronous standby is promoted within one more loop: about ${s.ttl} s, at most ` +
        `${hostCrash.max} s; planned switchover or clean stop: about ${s.loopWait} s; Postgres crash with Patroni alive: ` +
        `restarted in place within about ${s.loopWait} s plus crash recovery (failover after ${s.primaryStartTimeout} s); ` +
        `with synchronous_mode no acknowledged commit is lost.`;
    return {
        hostCrash,
        switchover: s.loopWait,
        postmasterCrash: s.loopWait,
        crashRecoveryLimit: s.primaryStartTimeout,
        summary,
    };
}
