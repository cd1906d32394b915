/**
 * What a validated config asks of its Swarm: the hosts (from the pools and lib/instanceTypes.ts) and every service's
 * placement, size and rollout, as the components register them. The config validator runs the fit check on this
 * before any resource exists; test/fit.test.ts checks that it equals what both stacks really register.
 */
import type { HaConfig } from "../config/types";
import { checkFit, FitHost, FitRollout, FitService } from "./fit";
import { instanceType } from "./instanceTypes";
import { planNodes } from "./placement";
import { cappedUpdateOrder, postgresTier, Tier, tierResources } from "./sizing";

/** Prefix of every Swarm object (components/region.ts uses the same). */
const PREFIX = "opscenter";

/** Update parallelism of the stateless web tiers (components/frontend.ts, components/backend.ts). */
export const WEB_UPDATE_PARALLELISM = 1;

/** The EC2 hosts of a config; empty on an existing Swarm (sizes unknown) or when an instance type is unknown. */
export function demandHosts(cfg: Pick<HaConfig, "hosts" | "network">): FitHost[] {
    if (cfg.hosts.existingSwarmHost !== undefined) return [];
    return planNodes(cfg.hosts.pools, cfg.network.azCount).flatMap((n) => {
        const type = cfg.hosts.pools[n.role].instanceType;
        const spec = instanceType(type);
        if (!spec) return [];
        return [{ hostname: n.hostname, labels: { role: n.role, zone: `zone-${n.zoneIndex}` }, manager: n.join !== "worker", cpus: spec.vcpus, memoryBytes: spec.memoryGiB * 1024 ** 3, instanceType: type }];
    });
}

/** App hosts holding the monitoring services' volumes (components/monitoring.ts). */
export function monitoringHosts(appHostnames: readonly string[]): { prometheus?: string; alertmanager?: string } {
    if (appHostnames.length === 0) return {};
    return { prometheus: appHostnames[1 % appHostnames.length], alertmanager: appHostnames[2 % appHostnames.length] };
}

/** Every Swarm service the config creates, reduced to what placement depends on. */
export function demandServices(cfg: HaConfig): FitService[] {
    const primary = cfg.role === "primary";
    const existing = cfg.hosts.existingSwarmHost !== undefined;
    const dataHosts = existing ? [...(cfg.hosts.existingSwarmDataHosts ?? [])] : Array.from({ length: cfg.hosts.pools.data.count }, (_, i) => `data-${i}`);
    const appHosts = existing ? [] : Array.from({ length: cfg.hosts.pools.app.count }, (_, i) => `app-${i}`);
    const on = (role: string, hostname?: string) => [`node.labels.role==${role}`, ...(hostname ? [`node.hostname==${hostname}`] : [])];
    const stop: FitRollout = { order: "stop-first", parallelism: 1 };
    /** statelessUpdate/statelessRollback(1, ...) of lib/swarmSpec.ts: the exporters and the socket proxy. */
    const start: FitRollout = { order: "start-first", parallelism: 1 };
    const sized = (tier: Tier) => tierResources(tier);
    const one = (name: string, constraints: string[], extra: Partial<FitService> = {}): FitService => ({ name: `${PREFIX}-${name}`, mode: "replicated", replicas: 1, constraints, update: stop, rollback: stop, ...extra });
    const services: FitService[] = [];

    // Edge
    services.push({ name: `${PREFIX}-socket-proxy`, mode: "global", replicas: 0, constraints: ["node.role==manager"], ...sized("socketProxy"), update: start, rollback: start });
    services.push({ name: `${PREFIX}-traefik`, mode: "global", replicas: 0, constraints: on("edge"), ...sized("traefik"), update: stop, rollback: stop, hostPorts: [80, 443, 8082] });

    // Stateless web tiers: at most one task per app node.
    const web = (name: string, replicas: number, tier: Tier): FitService => {
        const order = cappedUpdateOrder(replicas, WEB_UPDATE_PARALLELISM, existing ? undefined : cfg.hosts.pools.app.count);
        const rollout = { order, parallelism: WEB_UPDATE_PARALLELISM };
        return { name: `${PREFIX}-${name}`, mode: "replicated", replicas, constraints: on("app"), maxReplicas: 1, ...sized(tier), update: rollout, rollback: rollout };
    };
    services.push(web("frontend", cfg.frontend.replicas, "frontend"));
    services.push(web("backend-blue", cfg.backend.replicas, "backend"));
    services.push(web("backend-green", cfg.backend.replicas, "backend"));

    // Postgres: etcd and Patroni members pinned to data host i; HAProxy on any two data hosts.
    const pin = (i: number) => (dataHosts.length > 0 ? on("data", dataHosts[i % dataHosts.length]) : on("data"));
    for (let i = 0; i < cfg.postgres.etcdMembers; i++) services.push(one(`etcd-${i + 1}`, pin(i), { maxReplicas: 1, ...sized("etcd") }));
    const pg = postgresTier(cfg.builtAs);
    for (let i = 0; i < cfg.postgres.members; i++) services.push(one(`pg-${i + 1}`, pin(i), { maxReplicas: 1, ...sized(pg) }));
    services.push({ name: `${PREFIX}-postgres-router`, mode: "replicated", replicas: 2, constraints: on("data"), maxReplicas: 1, ...sized("postgresRouter"), update: { order: "start-first", parallelism: 1 }, rollback: stop });

    // Redis: nodes and sentinels pinned to data host i, host-mode ports where the host address is announced.
    const nodeCount = primary ? 1 + cfg.redis.replicas : cfg.redis.replicas;
    const hostPorts = (port: number) => (existing ? [] : [port]);
    for (let i = 0; i < nodeCount; i++) {
        services.push(one(`redis-${i + 1}`, on("data", dataHosts[i % dataHosts.length]), { ...sized("redis"), hostPorts: hostPorts(6379) }));
    }
    if (primary) for (let i = 0; i < cfg.redis.sentinels; i++) services.push(one(`redis-sentinel-${i + 1}`, on("data", dataHosts[i % dataHosts.length]), { ...sized("sentinel"), hostPorts: hostPorts(26379) }));
    services.push(one("redis-rdb-backup", on("data", dataHosts[(primary ? 1 : 0) % dataHosts.length]), sized("rdbBackup")));
    // Point-in-time restore: the step that seeds the first Redis node's volume (components/redis.ts), on that node's host.
    if (primary && cfg.restore?.redisRdbKey) services.push(one("redis-restore", on("data", dataHosts[0]), sized("rdbBackup")));
    // The region fence's sync: one task on every data host (components/fenceSync.ts).
    services.push({ name: `${PREFIX}-fence-sync`, mode: "global", replicas: 0, constraints: on("data"), ...sized("fenceSync"), update: stop, rollback: stop });
    services.push(one("redis-exporter", on("app"), { ...sized("exporter"), update: start, rollback: start }));

    // Monitoring: Prometheus and Alertmanager pinned to the app host holding their volume.
    const mon = monitoringHosts(appHosts);
    const pinned = (host: string | undefined) => (host ? on("app", host) : [...on("app"), "node.labels.monitoring==true"]);
    services.push(one("prometheus", pinned(mon.prometheus), { maxReplicas: 1, ...sized("prometheus") }));
    services.push(one("alertmanager", pinned(mon.alertmanager), { maxReplicas: 1, ...sized("alertmanager") }));
    services.push(one("postgres-exporter", on("app"), { ...sized("exporter"), update: start, rollback: start }));
    services.push(one("blackbox-exporter", on("app"), { ...sized("exporter"), update: start, rollback: start }));
    // node_exporter: one task on every node (components/monitoring.ts).
    services.push({ name: `${PREFIX}-node-exporter`, mode: "global", replicas: 0, constraints: [], ...sized("exporter"), update: start, rollback: start });
    return services;
}

/** Config keys that size each host role and each service (for the validator's messages). */
const ROLE_KEYS: Record<string, string[]> = {
    edge: ["edgeInstanceType", "edgeNodes"],
    app: ["appInstanceType", "appNodes", "frontendReplicas", "backendReplicas"],
    data: ["dataInstanceType", "dataNodes", "postgresMembers", "redisReplicas"],
};
function serviceKeys(name: string): string[] {
    const s = name.replace(`${PREFIX}-`, "");
    if (s === "frontend") return ["frontendReplicas", "appNodes", "appInstanceType"];
    if (s.startsWith("backend-")) return ["backendReplicas", "appNodes", "appInstanceType"];
    if (s.startsWith("pg-")) return ["dataInstanceType", "postgresMembers", "role"];
    if (s.startsWith("etcd-")) return ["etcdMembers", "dataNodes"];
    if (s.startsWith("redis")) return ["redisReplicas", "redisSentinels", "dataNodes", "dataInstanceType"];
    if (s === "traefik") return ["edgeInstanceType"];
    return ["appInstanceType", "appNodes"];
}

/**
 * The validator's fit problems of a config, one line each, naming the config keys that decide them (the first with
 * its value). Empty on an existing Swarm: its nodes' sizes are not in the config.
 */
export function fitProblemsOfConfig(cfg: HaConfig): string[] {
    const hosts = demandHosts(cfg);
    if (hosts.length === 0) return [];
    const role = (hostname?: string) => hostname?.replace(/-\d+$/, "");
    const value = (key: string): string => {
        const m = /^(edge|app|data)(InstanceType|Nodes)$/.exec(key);
        if (m) return m[2] === "Nodes" ? String(cfg.hosts.pools[m[1] as "edge"].count) : cfg.hosts.pools[m[1] as "edge"].instanceType;
        const other: Record<string, unknown> = {
            frontendReplicas: cfg.frontend.replicas,
            backendReplicas: cfg.backend.replicas,
            postgresMembers: cfg.postgres.members,
            etcdMembers: cfg.postgres.etcdMembers,
            redisReplicas: cfg.redis.replicas,
            redisSentinels: cfg.redis.sentinels,
            role: cfg.role,
        };
        return String(other[key]);
    };
    return checkFit(hosts, demandServices(cfg)).map((p) => {
        const keys =
            p.kind === "limit" ? [`${role(p.host)}InstanceType`, ...serviceKeys(p.service!).filter((k) => !k.endsWith("InstanceType"))] : p.kind === "host-reservations" ? ROLE_KEYS[role(p.host)!] : serviceKeys(p.service ?? "");
        const [first, ...rest] = [...new Set(keys)];
        return `ops-center-ha:${first} = ${JSON.stringify(value(first))} does not fit (with ${rest.map((k) => `ops-center-ha:${k} = ${value(k)}`).join(", ")}): ${p.message}`;
    });
}
