/**
 * HA policies across resources: every tier of the stack's role present; Patroni's timing rule; Sentinel
 * count and quorum; the standby region's Redis never promotable; web tiers replicated with hard anti-affinity
 * in a primary; reservations that fit the hosts; start-first updates that can place their extra task.
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { parse } from "yaml";
import { fitProblems, nodeOf, rollingProblems, taskOf } from "./placement";
import { configText, forStackType, props, Props, replicas, requireRole, resourcesOf, StackPolicy, TYPES } from "./support";

const services = (args: StackValidationArgs) => resourcesOf(args, TYPES.service);
const image = (r: PolicyResource) => String(props(r).taskSpec?.containerSpec?.image ?? "");
const sname = (r: PolicyResource) => String(props(r).name ?? r.name);

/** How each tier is recognised (regular expressions on the service name, or on the image). */
export const TIERS: Record<string, { name?: string; image?: string }> = {
    frontend: { name: "frontend$" },
    "backend-blue": { name: "backend-blue$" },
    "backend-green": { name: "backend-green$" },
    traefik: { image: "^traefik:" },
    postgres: { image: "spilo" },
    etcd: { image: "etcd" },
    "postgres-router": { name: "postgres-router$" },
    redis: { name: "redis-(standby-)?\\d+$" },
    sentinel: { name: "sentinel-\\d+$" },
    prometheus: { image: "^prom/prometheus:" },
    alertmanager: { image: "^prom/alertmanager:" },
};

/** Services of a tier in the stack. */
export function tierServices(args: StackValidationArgs, tier: string): PolicyResource[] {
    const t = TIERS[tier];
    return services(args).filter((s) => (t.name ? new RegExp(t.name).test(sname(s)) : true) && (t.image ? new RegExp(t.image).test(image(s)) : true));
}

export const haTiersPresent: StackPolicy = {
    name: "ha-tiers-present",
    description: "Every tier the stack's role needs is present, with at least its minimum number of services.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Restore the missing tier's component in components/region.ts for this role.",
    configSchema: {
        properties: {
            // Postgres: 3 members in a primary (after a failover the new leader still has a synchronous standby, so a second
            // failure loses no acknowledged write: README "Postgres: three members"); a standby runs what its hosts fit.
            primary: { type: "object", default: { frontend: 1, "backend-blue": 1, "backend-green": 1, traefik: 1, postgres: 3, etcd: 3, "postgres-router": 1, redis: 3, sentinel: 3, prometheus: 1, alertmanager: 1 } },
            standby: { type: "object", default: { frontend: 1, "backend-blue": 1, "backend-green": 1, traefik: 1, postgres: 2, etcd: 3, "postgres-router": 1, redis: 1, prometheus: 1, alertmanager: 1 } },
        },
    },
    validateStack: (args, report) => {
        const role = requireRole(args);
        const minimum = args.getConfig<Record<string, Record<string, number>>>()[role];
        for (const [tier, min] of Object.entries(minimum)) {
            if (!TIERS[tier]) continue;
            const n = tierServices(args, tier).length;
            if (n < min) report(`${role} stack: tier ${tier} has ${n} service(s), needs at least ${min}`);
        }
        if (resourcesOf(args, TYPES.bucket).length === 0 && resourcesOf(args, TYPES.instance).length > 0) report(`${role} stack: no WAL/backup bucket`);
    },
};

/** Patroni's effective DCS settings from a Spilo service's SPILO_CONFIGURATION (Patroni's defaults 30/10/10). */
export function patroniTiming(p: Props): { ttl: number; loopWait: number; retryTimeout: number } | undefined {
    const text = p.taskSpec?.containerSpec?.env?.SPILO_CONFIGURATION;
    if (typeof text !== "string") return undefined;
    const dcs = (parse(text) as Props)?.bootstrap?.dcs ?? {};
    return { ttl: Number(dcs.ttl ?? 30), loopWait: Number(dcs.loop_wait ?? 10), retryTimeout: Number(dcs.retry_timeout ?? 10) };
}

export const haPatroniTiming: StackPolicy = {
    name: "ha-patroni-timing",
    description: "Patroni's loop_wait + 2 x retry_timeout <= ttl (else Patroni silently shrinks them), with ttl at least Patroni 4's floor.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set patroniTtl/patroniLoopWait/patroniRetryTimeout so that loop_wait + 2*retry_timeout <= ttl (20/2/5).",
    configSchema: { properties: { minTtl: { type: "integer", default: 20 } } },
    validateStack: forStackType(TYPES.service, (_svcs, args, report) => {
        const { minTtl } = args.getConfig<{ minTtl: number }>();
        for (const s of tierServices(args, "postgres")) {
            const t = patroniTiming(props(s));
            if (!t) {
                report(`${sname(s)}: no SPILO_CONFIGURATION, Patroni's timing cannot be checked`, s.urn);
                continue;
            }
            if (t.loopWait + 2 * t.retryTimeout > t.ttl) report(`${sname(s)}: loop_wait ${t.loopWait} + 2 x retry_timeout ${t.retryTimeout} > ttl ${t.ttl}`, s.urn);
            if (t.ttl < minTtl) report(`${sname(s)}: ttl ${t.ttl} is below ${minTtl}`, s.urn);
        }
    }),
};

/** Quorums of every `sentinel monitor` line in the stack's Swarm configs. */
export function sentinelQuorums(args: StackValidationArgs): number[] {
    return resourcesOf(args, TYPES.serviceConfig).flatMap((c) =>
        [...configText(props(c)).matchAll(/^sentinel monitor \S+ \S+ \d+ (\d+)\s*$/gm)].map((m) => Number(m[1])),
    );
}

export const haSentinelQuorum: StackPolicy = {
    name: "ha-sentinel-quorum",
    description: "Redis Sentinels are an odd number (at least 3) and their quorum is a majority of them.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Run 3 (or 5) sentinels and set redisQuorum to a majority (2 of 3).",
    validateStack: (args, report) => {
        const role = requireRole(args);
        const n = tierServices(args, "sentinel").length;
        if (n === 0 && role === "standby") args.notApplicable("a standby region runs no sentinels (its replica follows the primary's)");
        if (n < 3 || n % 2 === 0) report(`${n} sentinels: need an odd number, at least 3`);
        for (const q of new Set(sentinelQuorums(args))) {
            if (q <= n / 2 || q > n) report(`sentinel quorum ${q} is not a majority of ${n} sentinels (${Math.floor(n / 2) + 1}-${n})`);
        }
    },
};

export const haStandbyRedisNeverPromoted: StackPolicy = {
    name: "ha-standby-redis-never-promoted",
    description: "In a standby region every Redis is a replica with replica-priority 0, so Sentinel never promotes it.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Render the standby region's redis.conf with replicaof <primary master> and replica-priority 0.",
    validateStack: (args, report) => {
        if (requireRole(args) !== "standby") args.notApplicable("only a standby region's Redis must be unpromotable");
        const confs = resourcesOf(args, TYPES.serviceConfig).filter((c) => /^(replicaof|replica-priority|appendonly|port) /m.test(configText(props(c))) && !/^sentinel /m.test(configText(props(c))));
        if (confs.length === 0) report("no redis.conf found among the Swarm configs: the standby's Redis cannot be checked");
        for (const c of confs) {
            const text = configText(props(c));
            const prio = /^replica-priority (\d+)/m.exec(text)?.[1];
            if (!/^replicaof \S+ \d+/m.test(text)) report(`${props(c).name ?? c.name}: no replicaof: a master in the standby region`, c.urn);
            if (prio !== "0") report(`${props(c).name ?? c.name}: replica-priority ${prio ?? "100 (default)"}, must be 0`, c.urn);
        }
    },
};

export const haWebReplicas: StackPolicy = {
    name: "ha-web-replicas",
    description: "In a primary, frontend and each backend colour run at least 3 replicas with hard anti-affinity (maxReplicas 1).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set frontendReplicas/backendReplicas to 3 or more and placement.maxReplicas to 1.",
    configSchema: { properties: { minReplicas: { type: "integer", minimum: 1, default: 3 } } },
    validateStack: (args, report) => {
        if (requireRole(args) !== "primary") args.notApplicable("a standby region runs a cold standby of the web tiers");
        const { minReplicas } = args.getConfig<{ minReplicas: number }>();
        for (const tier of ["frontend", "backend-blue", "backend-green"]) {
            for (const s of tierServices(args, tier)) {
                const p = props(s);
                const n = replicas(p);
                if (n === undefined) continue; // global: one per node
                if (n < minReplicas) report(`${sname(s)}: ${n} replica(s), a primary needs at least ${minReplicas}`, s.urn);
                if (p.taskSpec?.placement?.maxReplicas !== 1) {
                    report(`${sname(s)}: placement.maxReplicas is ${p.taskSpec?.placement?.maxReplicas ?? "unset"}: no hard anti-affinity (preferences are not)`, s.urn);
                }
            }
        }
    },
};

/** The Swarm model of a stack: its hosts and its services. */
function model(args: StackValidationArgs) {
    return { nodes: resourcesOf(args, TYPES.instance).map((r) => nodeOf(props(r))), tasks: services(args).map((r) => taskOf(props(r))) };
}

export const haReservationsFit: StackPolicy = {
    name: "ha-reservations-fit",
    description: "On every host, the reservations of the tasks that can land there fit its instance type, and no limit exceeds it.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Lower the reservations/limits or pick a larger instance type for that host pool.",
    validateStack: (args, report) => {
        const { nodes, tasks } = model(args);
        if (nodes.length === 0) args.notApplicable("no EC2 hosts in the stack (an existing Swarm): host sizes are unknown");
        for (const p of fitProblems(tasks, nodes)) report(p);
    },
};

export const haRollingUpdateRoom: StackPolicy = {
    name: "ha-rolling-update-room",
    description: "Every start-first update or rollback can place its extra task (a free host slot with room for its reservation).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a host to the pool, raise maxReplicas, or lower replicas so one slot stays free for the new task.",
    validateStack: (args, report) => {
        const { nodes, tasks } = model(args);
        if (nodes.length === 0) args.notApplicable("no EC2 hosts in the stack (an existing Swarm): host count is unknown");
        for (const p of rollingProblems(tasks, nodes)) report(p);
    },
};

export const haEtcdQuorum: StackPolicy = {
    name: "ha-etcd-quorum",
    description: "etcd runs an odd number of members, at least 3, each pinned to a different host.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Run 3 (or 5) etcd members, each constrained to its own node.hostname.",
    validateStack: forStackType(TYPES.service, (_svcs, args, report) => {
        const etcd = tierServices(args, "etcd");
        if (etcd.length < 3 || etcd.length % 2 === 0) report(`${etcd.length} etcd members: need an odd number, at least 3`);
        const hosts = etcd.map((s) => ((props(s).taskSpec?.placement?.constraints ?? []) as string[]).find((c) => c.startsWith("node.hostname")));
        if (hosts.some((h) => !h) || new Set(hosts).size !== hosts.length) report(`etcd members are not each pinned to a distinct host (${hosts.join(", ")})`);
    }),
};

export const stackPolicies = [haTiersPresent, haPatroniTiming, haSentinelQuorum, haStandbyRedisNeverPromoted, haWebReplicas, haReservationsFit, haRollingUpdateRoom, haEtcdQuorum];
