/**
 * The pure fit check of a Swarm plan: do the services' tasks start, schedule and roll on the hosts they may use?
 * Docker and SwarmKit apply these rules and fail silently at run time (a Pending task, a stalled update); here they
 * are applied to a plan before anything exists. Plain functions over plain data: the config validator runs them on
 * the services the config implies (lib/swarmDemand.ts), the tests on the services a stack registers, and a policy
 * pack may run them on a preview.
 *
 * The rules, each from the daemon that enforces it:
 * - A CPU limit above the host's CPUs is refused by Docker when the container is created
 *   ("Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"; moby daemon/daemon_unix.go,
 *   verifyPlatformContainerResources), so the task fails on every start. A memory limit above the host's memory is
 *   accepted but means nothing; we refuse it too. A reservation above its limit is refused (memory) or meaningless (CPU).
 * - SwarmKit's scheduler places a task only on a node whose unreserved CPUs and memory cover the task's reservation
 *   (swarmkit manager/scheduler/filter.go, ResourceFilter), whose labels/hostname/role satisfy every constraint
 *   (ConstraintFilter), and that holds fewer than `maxReplicas` tasks of the service (MaxReplicasFilter); otherwise
 *   the task stays Pending.
 * - A `start-first` update or rollback starts each new task before its old one stops, so the service needs
 *   `replicas + parallelism` slots at once; with `maxReplicas: 1` and exactly `replicas` eligible nodes the new task
 *   never places and the update stalls (moby/moby#40797). A host-mode published port also allows one task per node.
 *
 * "Tasks that can land on a host" is counted conservatively, as the issue asks: every eligible service may put
 * min(maxReplicas, replicas + start-first surplus) tasks there (a global service one), which is what the host must
 * hold when the other eligible hosts are down or full.
 */

/** CPUs and memory, in Docker's units. */
export interface FitResources {
    readonly nanoCpus: number;
    readonly memoryBytes: number;
}

/** One Swarm node, as the scheduler sees it. */
export interface FitHost {
    readonly hostname: string;
    /** Node labels (`role`, `zone`, ...). */
    readonly labels: Readonly<Record<string, string>>;
    readonly manager: boolean;
    /** NCPU, as Docker reports it. */
    readonly cpus: number;
    /** Nominal memory, bytes. */
    readonly memoryBytes: number;
    /** For messages: the EC2 instance type. */
    readonly instanceType?: string;
}

/** An update or rollback policy. */
export interface FitRollout {
    readonly order: "start-first" | "stop-first";
    /** Tasks replaced at once (0 means all). */
    readonly parallelism: number;
}

/** One Swarm service, reduced to what placement depends on. */
export interface FitService {
    readonly name: string;
    readonly mode: "replicated" | "global";
    /** Replicated only. */
    readonly replicas: number;
    readonly constraints: readonly string[];
    /** 0 or undefined: no cap. */
    readonly maxReplicas?: number;
    readonly reservation?: FitResources;
    readonly limit?: FitResources;
    /** Docker's default when absent: stop-first, parallelism 1. */
    readonly update?: FitRollout;
    readonly rollback?: FitRollout;
    /** Ports published in host mode (at most one task per node may bind them). */
    readonly hostPorts?: readonly number[];
}

/** One reason a plan does not fit. */
export interface FitProblem {
    readonly kind: "constraint" | "limit" | "reservation-above-limit" | "capacity" | "host-reservations" | "rollout";
    readonly service?: string;
    readonly host?: string;
    readonly message: string;
}

/** Part of a host's memory the kernel, firmware and host daemons (dockerd, keepalived) keep: reservations must fit in the rest. */
export const HOST_MEMORY_HELD_BACK = 0.1;

/** Docker's units from CPUs and "512M"/"2G". */
export function resources(cpus: number, memory: string): FitResources {
    const m = /^(\d+)([KMG])$/.exec(memory);
    if (!m) throw new Error(`memory ${JSON.stringify(memory)}: use a whole number with K, M or G, such as 512M`);
    return { nanoCpus: Math.round(cpus * 1e9), memoryBytes: Number(m[1]) * 1024 ** { K: 1, M: 2, G: 3 }[m[2] as "K" | "M" | "G"] };
}

const cpus = (nano: number) => Number((nano / 1e9).toFixed(3));
const gib = (bytes: number) => Number((bytes / 1024 ** 3).toFixed(2));
const hostText = (h: FitHost) => `${h.hostname} (${h.instanceType ? `${h.instanceType}: ` : ""}${h.cpus} vCPUs, ${gib(h.memoryBytes)} GiB)`;

/** Whether `host` satisfies one Swarm placement constraint. Throws on a constraint form this check does not know. */
export function satisfies(host: FitHost, constraint: string): boolean {
    const m = /^\s*(node\.labels\.[A-Za-z0-9_.-]+|node\.hostname|node\.role)\s*(==|!=)\s*(\S+)\s*$/.exec(constraint);
    if (!m) throw new Error(`placement constraint ${JSON.stringify(constraint)}: the fit check knows node.labels.<k>, node.hostname and node.role with == or !=`);
    const [, field, op, want] = m;
    const have = field === "node.hostname" ? host.hostname : field === "node.role" ? (host.manager ? "manager" : "worker") : host.labels[field.slice("node.labels.".length)];
    return op === "==" ? have === want : have !== want;
}

/** The hosts a service's tasks may use. */
export function eligibleHosts(service: FitService, hosts: readonly FitHost[]): FitHost[] {
    return hosts.filter((h) => service.constraints.every((c) => satisfies(h, c)));
}

/** Tasks of one service a single node may hold (Infinity when uncapped). */
function perNodeCap(s: FitService): number {
    const cap = s.maxReplicas && s.maxReplicas > 0 ? s.maxReplicas : Infinity;
    return s.hostPorts && s.hostPorts.length > 0 ? Math.min(cap, 1) : cap;
}

/** Extra tasks a start-first update or rollback runs beside the old ones. */
export function startFirstSurplus(s: FitService): number {
    if (s.mode === "global") return 0;
    const surplus = (r?: FitRollout) => (r && r.order === "start-first" ? (r.parallelism > 0 ? Math.min(r.parallelism, s.replicas) : s.replicas) : 0);
    return Math.max(surplus(s.update), surplus(s.rollback));
}

/** Tasks of `s` that can be on one eligible host at once (counted conservatively, see the file comment). */
export function tasksPerHost(s: FitService): number {
    if (s.mode === "global") return 1;
    return Math.min(perNodeCap(s), s.replicas + startFirstSurplus(s));
}

/** Every problem of the plan; empty when it fits. */
export function checkFit(hosts: readonly FitHost[], services: readonly FitService[]): FitProblem[] {
    const problems: FitProblem[] = [];
    const load = new Map<string, { nanoCpus: number; memoryBytes: number; parts: string[] }>(hosts.map((h) => [h.hostname, { nanoCpus: 0, memoryBytes: 0, parts: [] }]));
    for (const s of services) {
        const wanted = s.mode === "global" ? 1 : s.replicas;
        if (wanted === 0) continue;
        const eligible = eligibleHosts(s, hosts);
        if (eligible.length === 0) {
            problems.push({ kind: "constraint", service: s.name, message: `${s.name}: no host satisfies ${s.constraints.join(" && ")}, so its tasks stay Pending` });
            continue;
        }
        const { limit, reservation } = s;
        if (limit && reservation) {
            if (reservation.nanoCpus > limit.nanoCpus || reservation.memoryBytes > limit.memoryBytes) {
                problems.push({ kind: "reservation-above-limit", service: s.name, message: `${s.name}: reservation ${cpus(reservation.nanoCpus)} CPUs/${gib(reservation.memoryBytes)} GiB exceeds its limit ${cpus(limit.nanoCpus)} CPUs/${gib(limit.memoryBytes)} GiB` });
            }
        }
        if (limit) {
            for (const h of eligible) {
                if (limit.nanoCpus > h.cpus * 1e9) {
                    problems.push({ kind: "limit", service: s.name, host: h.hostname, message: `${s.name}: CPU limit ${cpus(limit.nanoCpus)} exceeds host ${hostText(h)}; Docker refuses the container ("Range of CPUs is from 0.01 to ${h.cpus.toFixed(2)}")` });
                }
                if (limit.memoryBytes > h.memoryBytes) {
                    problems.push({ kind: "limit", service: s.name, host: h.hostname, message: `${s.name}: memory limit ${gib(limit.memoryBytes)} GiB exceeds host ${hostText(h)}` });
                }
            }
        }
        if (s.mode === "replicated") {
            const slots = eligible.reduce((n, _h) => n + perNodeCap(s), 0);
            if (slots < s.replicas) {
                problems.push({ kind: "capacity", service: s.name, message: `${s.name}: ${s.replicas} replicas but only ${slots} slots (${eligible.length} eligible hosts x maxReplicas ${perNodeCap(s)}), so ${s.replicas - slots} stay Pending` });
            } else {
                const surplus = startFirstSurplus(s);
                if (surplus > 0 && slots < s.replicas + surplus) {
                    problems.push({
                        kind: "rollout",
                        service: s.name,
                        message: `${s.name}: a start-first update or rollback needs ${s.replicas + surplus} slots (${s.replicas} replicas + ${surplus} new) but ${eligible.length} eligible hosts x maxReplicas ${perNodeCap(s)} give ${slots}: the new task never places and the update stalls (moby/moby#40797); use stop-first or more eligible hosts`,
                    });
                }
            }
        } else if ((s.update?.order === "start-first" || s.rollback?.order === "start-first") && (s.hostPorts?.length ?? 0) > 0) {
            problems.push({ kind: "rollout", service: s.name, message: `${s.name}: a global service with host-mode ports cannot update start-first (the new task needs the ports the old one holds)` });
        }
        if (reservation) {
            const n = tasksPerHost(s);
            for (const h of eligible) {
                const l = load.get(h.hostname)!;
                l.nanoCpus += n * reservation.nanoCpus;
                l.memoryBytes += n * reservation.memoryBytes;
                l.parts.push(`${s.name} ${n} x ${cpus(reservation.nanoCpus)} CPU/${gib(reservation.memoryBytes)} GiB`);
            }
        }
    }
    for (const h of hosts) {
        const l = load.get(h.hostname)!;
        const memory = allocatableMemory(h);
        if (l.nanoCpus > h.cpus * 1e9 + 1 || l.memoryBytes > memory) {
            problems.push({
                kind: "host-reservations",
                host: h.hostname,
                message: `host ${hostText(h)}: the tasks that can land there reserve ${cpus(l.nanoCpus)} CPUs and ${gib(l.memoryBytes)} GiB (${l.parts.join(", ")}), more than its ${h.cpus} CPUs and ${gib(memory)} GiB allocatable: some stay Pending`,
            });
        }
    }
    return problems;
}

/** Memory reservations may use on a host. */
export function allocatableMemory(h: FitHost): number {
    return Math.floor(h.memoryBytes * (1 - HOST_MEMORY_HELD_BACK));
}

/** Per host: CPUs and memory reserved by the tasks that can land there (for the README's before/after table). */
export function reservedPerHost(hosts: readonly FitHost[], services: readonly FitService[]): Record<string, FitResources> {
    const out: Record<string, { nanoCpus: number; memoryBytes: number }> = Object.fromEntries(hosts.map((h) => [h.hostname, { nanoCpus: 0, memoryBytes: 0 }]));
    for (const s of services) {
        if (!s.reservation || (s.mode === "replicated" && s.replicas === 0)) continue;
        for (const h of eligibleHosts(s, hosts)) {
            out[h.hostname].nanoCpus += tasksPerHost(s) * s.reservation.nanoCpus;
            out[h.hostname].memoryBytes += tasksPerHost(s) * s.reservation.memoryBytes;
        }
    }
    return out;
}

/** The subset of a `docker.Service`'s registered inputs the fit check reads (plain JSON, secrets unwrapped). */
export interface ServiceArgsJson {
    readonly name: string;
    readonly mode?: { readonly global?: boolean; readonly replicated?: { readonly replicas?: number } };
    readonly taskSpec: {
        readonly placement?: { readonly constraints?: readonly string[]; readonly maxReplicas?: number };
        readonly resources?: { readonly limits?: Partial<FitResources>; readonly reservation?: Partial<FitResources> };
    };
    readonly updateConfig?: { readonly order?: string; readonly parallelism?: number };
    readonly rollbackConfig?: { readonly order?: string; readonly parallelism?: number };
    readonly endpointSpec?: { readonly ports?: readonly { readonly publishMode?: string; readonly publishedPort?: number }[] };
}

/** A registered `docker.Service` as the fit check sees it (Docker's defaults where a field is absent). */
export function fitServiceFromArgs(a: ServiceArgsJson): FitService {
    const res = (r?: Partial<FitResources>) => (r && (r.nanoCpus || r.memoryBytes) ? { nanoCpus: r.nanoCpus ?? 0, memoryBytes: r.memoryBytes ?? 0 } : undefined);
    const rollout = (r?: { order?: string; parallelism?: number }): FitRollout => ({ order: r?.order === "start-first" ? "start-first" : "stop-first", parallelism: r?.parallelism ?? 1 });
    const global = a.mode?.global === true;
    return {
        name: a.name,
        mode: global ? "global" : "replicated",
        replicas: global ? 0 : (a.mode?.replicated?.replicas ?? 1),
        constraints: a.taskSpec.placement?.constraints ?? [],
        maxReplicas: a.taskSpec.placement?.maxReplicas,
        limit: res(a.taskSpec.resources?.limits),
        reservation: res(a.taskSpec.resources?.reservation),
        update: rollout(a.updateConfig),
        rollback: rollout(a.rollbackConfig),
        hostPorts: (a.endpointSpec?.ports ?? []).filter((p) => p.publishMode === "host").map((p) => p.publishedPort ?? 0),
    };
}
