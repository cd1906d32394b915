/**
 * HAProxy in front of the Patroni members: clients reach whichever member Patroni's REST API reports
 * as primary (`GET /primary` -> 200), never a fixed host. Port 5000: the leader; 5001: replicas;
 * a small HTTP endpoint for stats and health.
 *
 * Pure: no Pulumi, no I/O.
 */
import { SWARM_VIP_IDLE_TIMEOUT_SECONDS, TCP_KEEPALIVE } from "../lib/keepalive";

/** One Patroni member behind HAProxy. */
export interface HaproxyServer {
    /** Server name in HAProxy (the Patroni member name). */
    readonly name: string;
    /** Host name or IPv4 address of the member. */
    readonly host: string;
    /** Postgres port of the member. */
    readonly port: number;
    /** Patroni REST API port of the member (health checks). */
    readonly apiPort: number;
}

/** Input of {@link renderHaproxyCfg}; every field but `servers` has a production default in HAPROXY_DEFAULTS. */
export interface HaproxyInput {
    /** The Patroni members. */
    readonly servers: readonly HaproxyServer[];
    /** Address the three listeners bind to ("*" for all). */
    readonly bindAddress?: string;
    /** Port that always leads to the leader (read-write). */
    readonly primaryPort?: number;
    /** Port that balances over healthy replicas (read-only). */
    readonly replicaPort?: number;
    /** Port of the HTTP stats page (/stats) and health endpoints (/health, /health/leader). */
    readonly statsPort?: number;
    /** REST API path that answers 200 only on the member to send writes to: "/primary" (primary region), "/leader" (standby region: standby leader, then primary; see leaderCheckPathFor). */
    readonly leaderCheckPath?: "/primary" | "/standby-leader" | "/leader";
    /** Milliseconds between health checks of a server. */
    readonly checkIntervalMs?: number;
    /** Milliseconds between checks of a server that just failed one (HAProxy `fastinter`): how soon a stopping leader is marked down. */
    readonly fastIntervalMs?: number;
    /** Milliseconds between checks of a server marked down (HAProxy `downinter`): how soon a promoted member is marked up. */
    readonly downIntervalMs?: number;
    /** Failed checks before a server is marked down. */
    readonly fall?: number;
    /** Successful checks before a server is marked up. */
    readonly rise?: number;
    /** DNS resolver for re-resolving server names at run time (Docker's embedded DNS in Swarm); omit for IP literals. */
    readonly dnsResolver?: string;
    /** Maximum concurrent client connections. */
    readonly maxConnections?: number;
    /** TCP keepalive towards clients and servers (default lib/keepalive.ts TCP_KEEPALIVE: below Swarm's 900 s VIP idle timeout). */
    readonly tcpKeepalive?: { readonly idleSeconds: number; readonly intervalSeconds: number; readonly count: number };
}

/**
 * The leader check of a region's router, by the region's role (components/postgres.ts renders it).
 *
 * A standby region's router checks `/leader`, not `/standby-leader`: Patroni answers `/leader` 200 on the member
 * holding the leader lock, standby leader or primary alike (patroni/api.py, `leader_status_code`), so the router keeps
 * routing to the same member when the promotion's PATCH turns the standby leader into a primary. With
 * `/standby-leader` (503 on a primary) the router marked the freshly promoted leader down two checks after the
 * promotion, and the region took no writes until `pulumi up` re-rendered the check (region_promotion bench: 14 of 15
 * writes failed in the 6 s after the first one). A primary region keeps `/primary`: 200 only while Postgres runs
 * read-write.
 */
export function leaderCheckPathFor(role: "primary" | "standby"): "/primary" | "/leader" {
    return role === "standby" ? "/leader" : "/primary";
}

/** Production values (Swarm: Patroni services pg-1..pg-3, one per data host, on the overlay network, Docker DNS). */
export const HAPROXY_DEFAULTS = {
    bindAddress: "*",
    primaryPort: 5000,
    replicaPort: 5001,
    statsPort: 7000,
    leaderCheckPath: "/primary",
    checkIntervalMs: 1000,
    // A leader handover (a clean stop in a roll, a switchover): the stopping leader answers /primary 503 once its
    // Postgres no longer runs (Patroni docs/rest_api.rst: 200 only while running as the primary with the leader lock)
    // and refuses connections; after one failed check it is checked again 250 ms later and marked down. The promoted
    // member, checked every 500 ms while down, is up within 500 ms of its promotion (bench swarm_postgres_rolling_update:
    // a handover cost ~5 s of writes with 1 s checks, 1.5-2 s with these).
    fastIntervalMs: 250,
    downIntervalMs: 500,
    fall: 2,
    rise: 1,
    dnsResolver: "127.0.0.11:53",
    maxConnections: 1000,
    servers: [
        { name: "pg-1", host: "pg-1", port: 5432, apiPort: 8008 },
        { name: "pg-2", host: "pg-2", port: 5432, apiPort: 8008 },
        { name: "pg-3", host: "pg-3", port: 5432, apiPort: 8008 },
    ],
} as const;

function fail(field: string, value: unknown, allowed: string): never {
    throw new Error(`haproxy: ${field} = ${JSON.stringify(value)} is invalid: ${allowed}`);
}

function checkPort(field: string, v: number): void {
    if (!Number.isInteger(v) || v < 1 || v > 65535) fail(field, v, "must be an integer TCP port from 1 to 65535");
}

function checkInt(field: string, v: number, min: number, max: number): void {
    if (!Number.isInteger(v) || v < min || v > max) fail(field, v, `must be an integer from ${min} to ${max}`);
}

/** Renders haproxy.cfg. Throws an Error naming the field for invalid input. */
export function renderHaproxyCfg(input: HaproxyInput): string {
    const bind = input.bindAddress ?? HAPROXY_DEFAULTS.bindAddress;
    const primaryPort = input.primaryPort ?? HAPROXY_DEFAULTS.primaryPort;
    const replicaPort = input.replicaPort ?? HAPROXY_DEFAULTS.replicaPort;
    const statsPort = input.statsPort ?? HAPROXY_DEFAULTS.statsPort;
    const leaderPath = input.leaderCheckPath ?? HAPROXY_DEFAULTS.leaderCheckPath;
    const inter = input.checkIntervalMs ?? HAPROXY_DEFAULTS.checkIntervalMs;
    const fastInter = input.fastIntervalMs ?? HAPROXY_DEFAULTS.fastIntervalMs;
    const downInter = input.downIntervalMs ?? HAPROXY_DEFAULTS.downIntervalMs;
    const fall = input.fall ?? HAPROXY_DEFAULTS.fall;
    const rise = input.rise ?? HAPROXY_DEFAULTS.rise;
    const maxconn = input.maxConnections ?? HAPROXY_DEFAULTS.maxConnections;

    if (bind !== "*" && !/^\d{1,3}(\.\d{1,3}){3}$/.test(bind)) fail("bindAddress", bind, 'must be "*" or an IPv4 address');
    checkPort("primaryPort", primaryPort);
    checkPort("replicaPort", replicaPort);
    checkPort("statsPort", statsPort);
    if (new Set([primaryPort, replicaPort, statsPort]).size !== 3) {
        fail("primaryPort/replicaPort/statsPort", [primaryPort, replicaPort, statsPort], "must be three different ports");
    }
    if (!["/primary", "/standby-leader", "/leader"].includes(leaderPath)) {
        fail("leaderCheckPath", leaderPath, 'must be "/primary", "/standby-leader" or "/leader"');
    }
    checkInt("checkIntervalMs", inter, 100, 60_000);
    checkInt("fastIntervalMs", fastInter, 100, 60_000);
    checkInt("downIntervalMs", downInter, 100, 60_000);
    checkInt("fall", fall, 1, 10);
    checkInt("rise", rise, 1, 10);
    checkInt("maxConnections", maxconn, 10, 1_000_000);
    const ka = input.tcpKeepalive ?? TCP_KEEPALIVE;
    checkInt("tcpKeepalive.idleSeconds", ka.idleSeconds, 1, SWARM_VIP_IDLE_TIMEOUT_SECONDS - 1);
    checkInt("tcpKeepalive.intervalSeconds", ka.intervalSeconds, 1, 600);
    checkInt("tcpKeepalive.count", ka.count, 1, 20);
    if (input.servers.length < 1) fail("servers", input.servers, "must list at least one Patroni member");
    const names = new Set<string>();
    input.servers.forEach((s, i) => {
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s.name)) fail(`servers[${i}].name`, s.name, "must be letters, digits, _ . -");
        if (names.has(s.name)) fail(`servers[${i}].name`, s.name, "must be unique");
        names.add(s.name);
        if (!/^[A-Za-z0-9.-]+$/.test(s.host)) fail(`servers[${i}].host`, s.host, "must be a host name or IPv4 address");
        checkPort(`servers[${i}].port`, s.port);
        checkPort(`servers[${i}].apiPort`, s.apiPort);
    });
    if (input.dnsResolver !== undefined && !/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(input.dnsResolver)) {
        fail("dnsResolver", input.dnsResolver, 'must be "ipv4:port", e.g. "127.0.0.11:53"');
    }

    // Names are resolved at run time through the resolver (a member may not exist yet when HAProxy starts).
    const ms = (v: number) => (v % 1000 === 0 ? `${v / 1000}s` : `${v}ms`);
    // A connection the server refuses (a stopping leader's closed port) marks it down at once, and the retry goes to
    // another server that is up (`option redispatch 1`), instead of three tries at the same one 1 s apart.
    const defaultServer = `    default-server inter ${ms(inter)} fastinter ${ms(fastInter)} downinter ${ms(downInter)} fall ${fall} rise ${rise} observe layer4 error-limit 1 on-error mark-down on-marked-down shutdown-sessions`;
    const resolve = input.dnsResolver !== undefined ? " resolvers swarm init-addr last,libc,none" : "";
    const serverLines = input.servers.map((s) => `    server ${s.name} ${s.host}:${s.port} check port ${s.apiPort}${resolve}`);
    const lines = [
        "# Rendered by ops-center-ha: routes clients to the Patroni leader (REST API health checks), never a fixed host.",
        "global",
        `    maxconn ${maxconn}`,
        "    log stdout format raw local0 info",
        "",
        "defaults",
        "    mode tcp",
        "    log global",
        "    option tcplog",
        "    retries 2",
        "    option redispatch 1",
        "    timeout connect 2s",
        "    timeout client 30m",
        "    timeout server 30m",
        "    timeout check 1s",
        "    # Clients and Postgres are reached through Swarm service VIPs (IPVS), which drop a flow idle for 900 s",
        "    # (moby/moby#31208): TCP keepalive on both sides, first probe well before that (the kernel default is 7200 s).",
        "    option clitcpka",
        `    clitcpka-idle ${ka.idleSeconds}s`,
        `    clitcpka-intvl ${ka.intervalSeconds}s`,
        `    clitcpka-cnt ${ka.count}`,
        "    option srvtcpka",
        `    srvtcpka-idle ${ka.idleSeconds}s`,
        `    srvtcpka-intvl ${ka.intervalSeconds}s`,
        `    srvtcpka-cnt ${ka.count}`,
        "",
    ];
    if (input.dnsResolver !== undefined) {
        lines.push(
            "resolvers swarm",
            `    nameserver docker ${input.dnsResolver}`,
            "    resolve_retries 3",
            "    timeout resolve 1s",
            "    timeout retry 1s",
            "    hold valid 5s",
            "    hold other 5s",
            "",
        );
    }
    lines.push(
        "listen stats",
        "    mode http",
        "    option dontlog-normal",
        `    bind ${bind}:${statsPort}`,
        "    stats enable",
        "    stats uri /stats",
        "    stats refresh 5s",
        '    http-request return status 200 content-type text/plain string "ok\\n" if { path /health }',
        '    http-request return status 503 content-type text/plain string "no leader\\n" if { path /health/leader } { nbsrv(primary) lt 1 }',
        '    http-request return status 200 content-type text/plain string "leader up\\n" if { path /health/leader }',
        "",
        "listen primary",
        `    bind ${bind}:${primaryPort}`,
        `    option httpchk GET ${leaderPath}`,
        "    http-check expect status 200",
        defaultServer,
        ...serverLines,
        "",
        "listen replicas",
        `    bind ${bind}:${replicaPort}`,
        "    balance roundrobin",
        "    option httpchk GET /replica",
        "    http-check expect status 200",
        defaultServer,
        ...serverLines,
        "",
    );
    return lines.join("\n");
}
