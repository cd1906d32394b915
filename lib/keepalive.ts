/**
 * TCP keepalive settings for every long-lived connection that crosses a Swarm service VIP.
 *
 * A Swarm service VIP is IPVS: a connection idle for longer than IPVS's TCP timeout (900 s, `ipvsadm -l --timeout`)
 * is dropped from the IPVS table, and its next packet goes nowhere: the connection hangs instead of failing
 * (moby/moby#31208 "Idle connections over overlay network ends up in a broken state after 15 minutes";
 * docker/docs#5519 "IPVS connection timeouts"). Any packet in either direction refreshes the entry, so one side's
 * keepalive probe every `idleSeconds` (< 900) keeps it; we set both sides anyway, so each also detects a dead peer.
 *
 * Used by: renderers/haproxy.ts (clitcpka/srvtcpka), renderers/patroniDcs.ts (Postgres tcp_keepalives_*),
 * renderers/redis.ts (tcp-keepalive), components/backend.ts (libpq keepalives in DATABASE_CONNECT_OPTIONS).
 * Pure data.
 */

/** IPVS's TCP established timeout that Swarm's service VIPs inherit, seconds (moby/moby#31208). */
export const SWARM_VIP_IDLE_TIMEOUT_SECONDS = 900;

/** The keepalive every tier uses: first probe after 300 s idle, then every 30 s, dead after 3 unanswered. */
export const TCP_KEEPALIVE = {
    /** Idle seconds before the first probe (and between probes of an idle, healthy connection). */
    idleSeconds: 300,
    /** Seconds between unanswered probes. */
    intervalSeconds: 30,
    /** Unanswered probes before the connection is declared dead. */
    count: 3,
} as const;

/** Seconds from the last packet until a dead peer is detected: idle + interval x count. */
export function keepaliveDeadAfterSeconds(k: { idleSeconds: number; intervalSeconds: number; count: number } = TCP_KEEPALIVE): number {
    return k.idleSeconds + k.intervalSeconds * k.count;
}

/**
 * libpq connection keywords (PostgreSQL docs, "Parameter Key Words": keepalives, keepalives_idle,
 * keepalives_interval, keepalives_count), space-separated `key=value` as a conninfo string fragment.
 */
export function libpqKeepaliveOptions(k: { idleSeconds: number; intervalSeconds: number; count: number } = TCP_KEEPALIVE): string {
    return `keepalives=1 keepalives_idle=${k.idleSeconds} keepalives_interval=${k.intervalSeconds} keepalives_count=${k.count}`;
}
