/**
 * Pure placement model for the stack policies: the Swarm nodes (EC2 hosts and their labels) and the services'
 * constraints, reservations and limits, as Docker's scheduler reads them. Checks that every reservation fits the
 * hosts it can land on, that no limit exceeds a host (Docker refuses "Range of CPUs is from 0.01 to N"), and that
 * every start-first update can place its extra task (moby/moby#40797: max_replicas_per_node blocks it by design).
 */
import { checkFit, FitHost, fitServiceFromArgs, ServiceArgsJson } from "../lib/fit";
import { INSTANCE_TYPES } from "../lib/instanceTypes";
import type { Props } from "./support";

export interface SwarmNode {
    readonly hostname: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly manager: boolean;
    readonly instanceType: string;
}

export interface SwarmTask {
    readonly name: string;
    /** Replicas; undefined for a global service (one task per eligible node). */
    readonly replicas?: number;
    readonly constraints: readonly string[];
    readonly maxReplicas?: number;
    readonly reserveCpu: number;
    readonly reserveMem: number;
    readonly limitCpu: number;
    readonly limitMem: number;
    /** True when an update or rollback starts the new task before stopping the old one. */
    readonly startFirst: boolean;
    /** The service's inputs, for lib/fit.ts's rollout rule (startFirstBlocked). */
    readonly source: Props;
}

/** A Swarm node from an EC2 instance's inputs: hostname from cloud-init, labels from its tags. */
export function nodeOf(p: Props): SwarmNode {
    const fromUserData = typeof p.userData === "string" ? /^hostname:\s*(\S+)/m.exec(p.userData)?.[1] : undefined;
    const fromTag = /([a-z]+-\d+)$/.exec(String(p.tags?.Name ?? ""))?.[1];
    return {
        hostname: fromUserData ?? fromTag ?? String(p.tags?.Name ?? "?"),
        labels: { role: String(p.tags?.role ?? "") },
        manager: p.tags?.swarm === "manager",
        instanceType: String(p.instanceType ?? ""),
    };
}

/** A task model from a docker Service's inputs. */
export function taskOf(p: Props): SwarmTask {
    const r = p.taskSpec?.resources ?? {};
    const n = (x: unknown) => (Number(x) > 0 ? Number(x) : 0);
    return {
        name: String(p.name),
        replicas: p.mode?.global ? undefined : Number(p.mode?.replicated?.replicas ?? 1),
        constraints: (p.taskSpec?.placement?.constraints ?? []) as string[],
        maxReplicas: p.taskSpec?.placement?.maxReplicas ? Number(p.taskSpec.placement.maxReplicas) : undefined,
        reserveCpu: n(r.reservation?.nanoCpus) / 1e9,
        reserveMem: n(r.reservation?.memoryBytes),
        limitCpu: n(r.limits?.nanoCpus) / 1e9,
        limitMem: n(r.limits?.memoryBytes),
        startFirst: p.updateConfig?.order === "start-first" || p.rollbackConfig?.order === "start-first",
        source: p,
    };
}

/** True when the node satisfies one constraint (==, != on node.hostname, node.role, node.labels.*). */
function satisfies(node: SwarmNode, c: string): boolean {
    const m = /^\s*([\w.]+)\s*(==|!=)\s*(.+?)\s*$/.exec(c);
    if (!m) return true; // an expression we do not model constrains nothing here
    const [, key, op, want] = m;
    let have: string | undefined;
    if (key === "node.hostname") have = node.hostname;
    else if (key === "node.role") have = node.manager ? "manager" : "worker";
    else if (key.startsWith("node.labels.")) have = node.labels[key.slice("node.labels.".length)];
    else return true;
    return op === "==" ? have === want : have !== want;
}

export function eligible(task: SwarmTask, nodes: readonly SwarmNode[]): SwarmNode[] {
    return nodes.filter((n) => task.constraints.every((c) => satisfies(n, c)));
}

/** Tasks of `task` that can land on one eligible node. */
function perNode(task: SwarmTask): number {
    if (task.replicas === undefined) return 1;
    return Math.min(task.replicas, task.maxReplicas ?? task.replicas);
}

const GiB = 1024 ** 3;

/** Problems with reservations and limits against the hosts' sizes. */
export function fitProblems(tasks: readonly SwarmTask[], nodes: readonly SwarmNode[]): string[] {
    const problems: string[] = [];
    for (const node of nodes) {
        const size = INSTANCE_TYPES[node.instanceType];
        if (!size) {
            problems.push(`host ${node.hostname}: instance type ${node.instanceType} is not in lib/instanceTypes.ts`);
            continue;
        }
        const here = tasks.filter((t) => eligible(t, [node]).length === 1);
        const cpu = here.reduce((s, t) => s + t.reserveCpu * perNode(t), 0);
        const mem = here.reduce((s, t) => s + t.reserveMem * perNode(t), 0);
        const who = here.filter((t) => t.reserveCpu > 0 || t.reserveMem > 0).map((t) => `${t.name} ${t.reserveCpu * perNode(t)}`).join(" + ");
        if (cpu > size.vcpus + 1e-9) problems.push(`host ${node.hostname} (${node.instanceType}, ${size.vcpus} vCPU): reservations that can land there need ${round(cpu)} CPU (${who})`);
        if (mem > size.memoryGiB * GiB) problems.push(`host ${node.hostname} (${node.instanceType}, ${size.memoryGiB} GiB): reservations need ${round(mem / GiB)} GiB`);
        for (const t of here) {
            if (t.limitCpu > size.vcpus) problems.push(`${t.name}: CPU limit ${t.limitCpu} exceeds host ${node.hostname} (${node.instanceType}, ${size.vcpus} vCPU): Docker refuses the task`);
            if (t.limitMem > size.memoryGiB * GiB) problems.push(`${t.name}: memory limit ${round(t.limitMem / GiB)} GiB exceeds host ${node.hostname} (${size.memoryGiB} GiB)`);
        }
    }
    for (const t of tasks) if (eligible(t, nodes).length === 0 && nodes.length > 0) problems.push(`${t.name}: no host satisfies ${t.constraints.join(", ")}`);
    return problems;
}

/** Problems of start-first updates that cannot place their extra task. */
export function rollingProblems(tasks: readonly SwarmTask[], nodes: readonly SwarmNode[]): string[] {
    const problems: string[] = [];
    for (const t of tasks.filter((x) => x.startFirst)) {
        const hosts = eligible(t, nodes);
        if (hosts.length === 0) continue;
        const fits = (n: SwarmNode) => {
            const size = INSTANCE_TYPES[n.instanceType];
            if (!size) return false;
            const here = tasks.filter((x) => eligible(x, [n]).length === 1);
            const cpu = here.reduce((s, x) => s + x.reserveCpu * perNode(x), 0) + t.reserveCpu;
            const mem = here.reduce((s, x) => s + x.reserveMem * perNode(x), 0) + t.reserveMem;
            return cpu <= size.vcpus + 1e-9 && mem <= size.memoryGiB * GiB;
        };
        if (t.replicas === undefined) {
            // A global service starts its new task beside the old one on every node.
            const full = hosts.filter((n) => !fits(n)).map((n) => n.hostname);
            if (full.length) problems.push(`${t.name}: global start-first update has no room for a second task on ${full.join(", ")}`);
            continue;
        }
        // The same rule swarm-stateless-update applies to accept stop-first (lib/fit.ts, via startFirstBlocked).
        const blocked = startFirstBlocked(t.source, nodes);
        if (blocked) {
            problems.push(blocked);
            continue;
        }
        if (!hosts.some(fits) && (t.reserveCpu > 0 || t.reserveMem > 0)) problems.push(`${t.name}: no eligible host has room for the extra task's reservation during a start-first update`);
    }
    return problems;
}

function round(x: number): number {
    return Math.round(x * 100) / 100;
}

/** A Swarm node as lib/fit.ts sees it; undefined when its instance type is not in lib/instanceTypes.ts. */
export function fitHostOf(node: SwarmNode): FitHost | undefined {
    const size = INSTANCE_TYPES[node.instanceType];
    if (!size) return undefined;
    return { hostname: node.hostname, labels: node.labels, manager: node.manager, cpus: size.vcpus, memoryBytes: size.memoryGiB * GiB, instanceType: node.instanceType };
}

/**
 * Why a start-first update or rollback of this service could never place its extra task on these nodes
 * (lib/fit.ts's "rollout" rule: replicas fill every eligible host under maxReplicas, or host-mode ports;
 * moby/moby#40797), or undefined when it could. Evaluated with both orders set to start-first, whatever the
 * service declares, so `swarm-stateless-update` (which then accepts stop-first) and `ha-rolling-update-room`
 * (which then refuses start-first) apply one rule. Nodes unknown (an existing Swarm): a capped service cannot be
 * shown to place, as lib/sizing.ts cappedUpdateOrder also assumes.
 */
export function startFirstBlocked(p: Props, nodes: readonly SwarmNode[]): string | undefined {
    const a = JSON.parse(JSON.stringify(p)) as ServiceArgsJson & Props;
    const u = { ...(a.updateConfig ?? {}), order: "start-first" };
    const r = { ...(a.rollbackConfig ?? {}), order: "start-first" };
    const svc = fitServiceFromArgs({ ...a, taskSpec: a.taskSpec ?? {}, updateConfig: u, rollbackConfig: r });
    if (nodes.length === 0) return svc.maxReplicas && svc.mode === "replicated" ? `${svc.name}: capped at maxReplicas ${svc.maxReplicas} on a Swarm of unknown size` : undefined;
    const hosts = nodes.map(fitHostOf).filter((h): h is FitHost => h !== undefined);
    const problem = checkFit(hosts, [svc]).find((x) => x.kind === "rollout");
    return problem?.message;
}

