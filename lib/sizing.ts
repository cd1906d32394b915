/**
 * CPU and memory of every tier (limits and reservations), in one table that the components ship and the fit
 * check (lib/fit.ts) verifies against the hosts. The design document's per-replica sizes are the limits; where a
 * design size does not fit the hosts it names, the README's tier table says what we chose and why.
 */
import { FitResources, FitRollout, resources } from "./fit";

/** A tier's limits and reservations, in CPUs and "512M"/"2G". */
export interface TierSize {
    readonly limits: { readonly cpus: number; readonly memory: string };
    readonly reservations: { readonly cpus: number; readonly memory: string };
}

export const TIER_SIZES = {
    /** Design: 0.5 CPU/512M limit, 0.25/256M reservation. Kept. */
    frontend: { limits: { cpus: 0.5, memory: "512M" }, reservations: { cpus: 0.25, memory: "256M" } },
    /**
     * Design: 2 CPU/2G limit, 1 CPU/1G reservation per replica. Blue/green runs two colours on the same app hosts
     * (one idle), so each colour reserves 0.5 CPU: the backend still holds the design's 1 CPU per host.
     */
    backend: { limits: { cpus: 2, memory: "2G" }, reservations: { cpus: 0.5, memory: "1G" } },
    /** Design: PostgreSQL primary 4 CPU/8 GB. Either member may lead, so both get the primary's size. */
    postgresPrimary: { limits: { cpus: 4, memory: "8G" }, reservations: { cpus: 2, memory: "4G" } },
    /** Design: PostgreSQL standby 2 CPU/4 GB: the standby region's standby cluster. */
    postgresStandby: { limits: { cpus: 2, memory: "4G" }, reservations: { cpus: 1, memory: "2G" } },
    /** Design: Redis master 1 CPU/2 GB; every node may become master. maxmemory stays below the limit (renderers/redis.ts). */
    redis: { limits: { cpus: 1, memory: "2G" }, reservations: { cpus: 0.5, memory: "1G" } },
    /** Design: Traefik 1 CPU/1 GB. */
    traefik: { limits: { cpus: 1, memory: "1G" }, reservations: { cpus: 0.25, memory: "256M" } },
    /** Not in the design: Prometheus's TSDB head for this program's ~30 targets at 15 s fits in 2G. */
    prometheus: { limits: { cpus: 1, memory: "2G" }, reservations: { cpus: 0.25, memory: "512M" } },
    /** Not in the design: etcd for Patroni's few keys (a DCS of kilobytes); 0.5 CPU/512M is ample. */
    etcd: { limits: { cpus: 0.5, memory: "512M" }, reservations: { cpus: 0.1, memory: "128M" } },
    /** Not in the design: the Postgres router (HAProxy, TCP only, a few hundred connections). */
    postgresRouter: { limits: { cpus: 0.5, memory: "256M" }, reservations: { cpus: 0.1, memory: "64M" } },
    /** Not in the design: a Redis Sentinel (no data, a handful of connections). */
    sentinel: { limits: { cpus: 0.25, memory: "128M" }, reservations: { cpus: 0.05, memory: "32M" } },
    /** Not in the design: redis_exporter, postgres_exporter, blackbox_exporter (one scrape every 15 s). */
    exporter: { limits: { cpus: 0.25, memory: "128M" }, reservations: { cpus: 0.05, memory: "32M" } },
    /** Not in the design: Alertmanager (a few alerts, a small notification log). */
    alertmanager: { limits: { cpus: 0.25, memory: "256M" }, reservations: { cpus: 0.05, memory: "64M" } },
    /** Not in the design: the Docker socket proxy in front of the Swarm API (HAProxy, read-only). */
    socketProxy: { limits: { cpus: 0.25, memory: "128M" }, reservations: { cpus: 0.05, memory: "32M" } },
    /** Not in the design: the hourly Redis RDB copy (redis-cli --rdb and aws s3 cp of a snapshot below the 2G Redis limit). */
    rdbBackup: { limits: { cpus: 0.5, memory: "256M" }, reservations: { cpus: 0.05, memory: "64M" } },
    /** Not in the design: the region fence's sync (renderers/fence.ts): one small S3 GET per bucket every 5 s. */
    fenceSync: { limits: { cpus: 0.25, memory: "128M" }, reservations: { cpus: 0.02, memory: "48M" } },
} as const satisfies Record<string, TierSize>;

export type Tier = keyof typeof TIER_SIZES;

/** Docker's units of a tier's size. */
export function tierResources(tier: Tier): { limit: FitResources; reservation: FitResources } {
    const s: TierSize = TIER_SIZES[tier];
    return { limit: resources(s.limits.cpus, s.limits.memory), reservation: resources(s.reservations.cpus, s.reservations.memory) };
}

/** The provider's `taskSpec.resources` of a tier. */
export function swarmResources(tier: Tier) {
    const { limit, reservation } = tierResources(tier);
    return { limits: { ...limit }, reservation: { ...reservation } };
}

/** Postgres members' size: the primary's in a primary region, the standby's in a standby region. */
export function postgresTier(role: "primary" | "standby"): Tier {
    return role === "primary" ? "postgresPrimary" : "postgresStandby";
}

/**
 * Update order of a stateless tier capped at one task per node (frontend, both backend colours). start-first
 * needs a free eligible node for the new task; when the replicas already fill every eligible node (3 replicas on
 * 3 app hosts) it can never place (moby/moby#40797), so the tier rolls stop-first: one task at a time stops, the
 * others keep serving (Traefik routes only to ready tasks), then its replacement starts on the freed node.
 * `eligibleNodes` undefined (an existing Swarm of unknown size): stop-first, which always places.
 */
export function cappedUpdateOrder(replicas: number, parallelism: number, eligibleNodes: number | undefined): FitRollout["order"] {
    return eligibleNodes !== undefined && replicas + parallelism <= eligibleNodes ? "start-first" : "stop-first";
}
