/**
 * Redis with Sentinel (DESIGN.md fix 7): redis.conf per node, sentinel.conf per sentinel, and the topology check.
 *
 * Primary region: a master, two replicas and three sentinels. Standby region: one replica with
 * `replica-priority 0` that follows the primary region's master and is never promoted.
 * No rendered file holds a password: the start scripts (./redisScripts) append `requirepass`,
 * `masterauth` and `sentinel auth-pass` from the Swarm secret file when the container starts.
 */

import { TCP_KEEPALIVE } from "../lib/keepalive";
import { REDIS_DEFAULTS, RedisAddress, checkBind, checkHost, checkInt, checkMasterName, checkPath, checkPort, fail } from "./redisDefaults";

export { REDIS_DEFAULTS } from "./redisDefaults";

export type { RedisAddress } from "./redisDefaults";

/** Input of {@link renderRedisConf}: one Redis node. */
export interface RedisNodeInput {
    /** Node name, only used in the header comment (e.g. "redis-1"). */
    readonly name: string;
    /** "primary": master or promotable replica in the primary region; "standby": the standby region's replica (priority 0). */
    readonly region: "primary" | "standby";
    /** Port redis-server listens on (default 6379). */
    readonly port?: number;
    /** Addresses to listen on (default `* -::*`). */
    readonly bind?: string;
    /** Name this node announces to its master and so to the sentinels; must resolve from every sentinel and replica. */
    readonly announceHost: string;
    /** Port announced with `announceHost` (default: `port`). */
    readonly announcePort?: number;
    /** Master to follow at first start; omit for the initial master. Required for the standby replica. */
    readonly replicaOf?: RedisAddress;
    /** Sentinel priority of a primary-region node, lower is preferred (default 100; 0 is reserved for the standby replica). */
    readonly replicaPriority?: number;
    /** Healthy replicas a master needs to accept writes (primary region only, default 1). */
    readonly minReplicasToWrite?: number;
    /** Max replica ACK age in seconds for `minReplicasToWrite` (default 10). */
    readonly minReplicasMaxLagS?: number;
    /**
     * `maxmemory` in MiB, below the container's memory limit so that Redis refuses writes (noeviction: sessions are
     * never silently dropped) before the kernel kills it; unset = unlimited.
     */
    readonly maxmemoryMb?: number;
    /** Data directory for the AOF and RDB files (default /data). */
    readonly dataDir?: string;
}

/** Input of {@link renderSentinelConf}: one sentinel. */
export interface SentinelInput {
    /** Sentinel name, only used in the header comment (e.g. "redis-sentinel-1"). */
    readonly name: string;
    /** Name of the monitored master (default "opscenter"). */
    readonly masterName?: string;
    /** Initial master; afterwards Sentinel keeps the current one in its rewritten copy. */
    readonly master: RedisAddress;
    /** How many sentinels monitor this master (odd, at least 3; default 3). */
    readonly sentinels?: number;
    /** Sentinels that must agree the master is down, a majority of `sentinels` (default 2). */
    readonly quorum?: number;
    /** Port redis-sentinel listens on (default 26379). */
    readonly port?: number;
    /** Addresses to listen on (default `* -::*`). */
    readonly bind?: string;
    /** Name this sentinel announces to the others (Swarm service DNS name); omit to announce its address. */
    readonly announceHost?: string;
    /** Port announced with `announceHost` (default: `port`). */
    readonly announcePort?: number;
    /** Milliseconds before the master is subjectively down (default 5000). */
    readonly downAfterMs?: number;
    /** Replicas reconfigured at a time after a failover (default 1). */
    readonly parallelSyncs?: number;
    /** Failover timeout in milliseconds (default 60000), more than `downAfterMs`. */
    readonly failoverTimeoutMs?: number;
    /** Working directory (default /data). */
    readonly dataDir?: string;
}

/** Sentinel count and quorum, as checked by {@link validateSentinelTopology}. */
export interface SentinelTopology {
    /** Number of sentinels monitoring the master. */
    readonly sentinels: number;
    /** Sentinels that must agree the master is down. */
    readonly quorum: number;
}

/**
 * Checks a Sentinel deployment: an odd number of at least 3 sentinels (so a majority survives the loss of
 * one, and a partition cannot leave two equal halves), and a quorum that is a majority (> n/2, <= n).
 * A smaller quorum lets a minority call the master down; failover still needs a majority vote, but a
 * majority quorum keeps the two thresholds equal and the behaviour easy to reason about.
 */
export function validateSentinelTopology(t: SentinelTopology): void {
    if (!Number.isInteger(t.sentinels) || t.sentinels < 3 || t.sentinels % 2 === 0) {
        fail("sentinels", t.sentinels, "an odd integer of at least 3");
    }
    if (!Number.isInteger(t.quorum) || t.quorum <= t.sentinels / 2 || t.quorum > t.sentinels) {
        fail("quorum", t.quorum, `a majority of ${t.sentinels} sentinels: an integer from ${Math.floor(t.sentinels / 2) + 1} to ${t.sentinels}`);
    }
}

/** Renders redis.conf for one node. Passwords are appended by the start script, never rendered here. */
export function renderRedisConf(n: RedisNodeInput): string {
    const D = REDIS_DEFAULTS;
    if (n.region !== "primary" && n.region !== "standby") fail("region", n.region, '"primary" or "standby"');
    const port = checkPort("port", n.port ?? D.port);
    const bind = checkBind("bind", n.bind ?? D.bind);
    const announceHost = checkHost("announceHost", n.announceHost);
    const announcePort = checkPort("announcePort", n.announcePort ?? port);
    const dataDir = checkPath("dataDir", n.dataDir ?? D.dataDir);
    if (n.replicaOf) {
        checkHost("replicaOf.host", n.replicaOf.host);
        checkPort("replicaOf.port", n.replicaOf.port);
    }
    const standby = n.region === "standby";
    if (standby && !n.replicaOf) fail("replicaOf", n.replicaOf, "the primary region's master address (the standby replica always replicates)");
    if (standby && n.replicaPriority !== undefined && n.replicaPriority !== 0) {
        fail("replicaPriority", n.replicaPriority, "0 or unset for the standby region's replica (it must never be promoted)");
    }
    if (standby && (n.minReplicasToWrite !== undefined || n.minReplicasMaxLagS !== undefined)) {
        fail("minReplicasToWrite", n.minReplicasToWrite ?? n.minReplicasMaxLagS, "unset for the standby region's replica (it never becomes master)");
    }
    const priority = standby ? 0 : checkInt("replicaPriority", n.replicaPriority ?? D.replicaPriority, 1, 1_000_000);

    const lines = [
        `# redis.conf for ${n.name} (${standby ? "standby region replica, never promoted" : "primary region"}).`,
        "# Rendered by ops-center-ha renderers/redis.ts. No password here: the start script appends",
        "# requirepass and masterauth from the Swarm secret to a writable copy of this file.",
        `bind ${bind}`,
        "# Auth is on (requirepass, appended at start), so protected mode would only get in the way of the overlay network.",
        "protected-mode no",
        `port ${port}`,
        `dir ${dataDir}`,
        "# Clients reach Redis through Swarm service VIPs (IPVS), which drop a flow idle for 900 s (moby/moby#31208):",
        "# probe idle clients well before that (Linux: the first probe after this many seconds).",
        `tcp-keepalive ${TCP_KEEPALIVE.idleSeconds}`,
        "appendonly yes",
        "appendfsync everysec",
        "save 900 1",
        "save 300 10",
        ...(n.maxmemoryMb !== undefined
            ? [
                  "# Below the container's memory limit, with room for the fork of a snapshot or AOF rewrite: refuse writes, never get OOM-killed.",
                  `maxmemory ${checkInt("maxmemoryMb", n.maxmemoryMb, 64, 1_048_576)}mb`,
                  "maxmemory-policy noeviction",
              ]
            : []),
        "# Announce the stable service name, not the task IP that changes when Swarm reschedules the container.",
        `replica-announce-ip ${announceHost}`,
        `replica-announce-port ${announcePort}`,
    ];
    if (standby) {
        lines.push("# Priority 0: Sentinel never promotes this replica (it sits across the VPC peering in the standby region).");
        lines.push("replica-priority 0");
    } else {
        const minReplicas = checkInt("minReplicasToWrite", n.minReplicasToWrite ?? D.minReplicasToWrite, 0, 10);
        const maxLag = checkInt("minReplicasMaxLagS", n.minReplicasMaxLagS ?? D.minReplicasMaxLagS, 1, 3_600);
        lines.push(
            `replica-priority ${priority}`,
            "# A master that has had no replica acknowledging within min-replicas-max-lag seconds refuses writes.",
            "# This bounds what an isolated old master (partitioned away while the sentinels promote a replica) or a",
            "# stale master restarted by Swarm before Sentinel demotes it can acknowledge and then lose, to about",
            "# max-lag seconds of writes instead of everything until the partition heals. With two replicas here plus",
            "# the standby region's one, a single healthy replica is enough, so losing two replicas still keeps writes.",
            `min-replicas-to-write ${minReplicas}`,
            `min-replicas-max-lag ${maxLag}`,
        );
    }
    if (n.replicaOf) {
        lines.push(
            "# Master at first start only: the start script keeps the role Sentinel gave this node later (CONFIG REWRITE).",
            `replicaof ${n.replicaOf.host} ${n.replicaOf.port}`,
        );
    }
    return lines.join("\n") + "\n";
}

/** Renders sentinel.conf for one sentinel. `sentinel auth-pass` is appended by the start script. */
export function renderSentinelConf(s: SentinelInput): string {
    const D = REDIS_DEFAULTS;
    const name = checkMasterName("masterName", s.masterName ?? D.masterName);
    const sentinels = s.sentinels ?? D.sentinels;
    const quorum = s.quorum ?? D.quorum;
    validateSentinelTopology({ sentinels, quorum });
    const host = checkHost("master.host", s.master.host);
    const mport = checkPort("master.port", s.master.port);
    const port = checkPort("port", s.port ?? D.sentinelPort);
    const bind = checkBind("bind", s.bind ?? D.bind);
    const downAfter = checkInt("downAfterMs", s.downAfterMs ?? D.downAfterMs, 1_000, 600_000);
    const parallelSyncs = checkInt("parallelSyncs", s.parallelSyncs ?? D.parallelSyncs, 1, 16);
    const failoverTimeout = checkInt("failoverTimeoutMs", s.failoverTimeoutMs ?? D.failoverTimeoutMs, downAfter + 1, 3_600_000);
    const dataDir = checkPath("dataDir", s.dataDir ?? D.dataDir);

    const lines = [
        `# sentinel.conf for ${s.name}. Rendered by ops-center-ha renderers/redis.ts.`,
        "# Sentinel rewrites its config, so the start script runs it from a writable copy and appends",
        "# `sentinel auth-pass` from the Swarm secret there; no password is in this file.",
        `bind ${bind}`,
        "protected-mode no",
        `port ${port}`,
        `dir ${dataDir}`,
        "# Swarm gives services DNS names and tasks changing IPs: resolve names and keep them, never the IPs.",
        "sentinel resolve-hostnames yes",
        "sentinel announce-hostnames yes",
    ];
    if (s.announceHost !== undefined) {
        lines.push(`sentinel announce-ip ${checkHost("announceHost", s.announceHost)}`);
        lines.push(`sentinel announce-port ${checkPort("announcePort", s.announcePort ?? port)}`);
    }
    lines.push(
        `# Quorum ${quorum} of ${sentinels}: a majority must see the master down; the failover itself needs a majority vote.`,
        `sentinel monitor ${name} ${host} ${mport} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${downAfter}`,
        `sentinel parallel-syncs ${name} ${parallelSyncs}`,
        `# failover-timeout ${failoverTimeout} ms. Sentinel uses it to: retry a failover of the same master after 2x this`,
        "# (a stuck failover, e.g. the chosen replica died while being promoted, is retried after 2 min: the default",
        "# 3 min would mean 6 min without a writable master); abort a promotion the replica never acknowledged; wait",
        "# for replicas to resync with parallel-syncs before reconfiguring the rest at once; and leave a replica that",
        "# follows the wrong master alone this long before fixing it. 60 s covers a partial resync of every replica,",
        "# including the standby region's over the peering, and is far above the design's 10 s, which would restart",
        "# failovers (and bump epochs) while a slow replica is still being promoted.",
        `sentinel failover-timeout ${name} ${failoverTimeout}`,
    );
    return lines.join("\n") + "\n";
}

export * from "./redisScripts";
