/**
 * One stack's plan on a Swarm lab, for the Swarm tests and bench/swarm.ts: the lab of the plan's hosts (lab.ts),
 * the stand-in images (images.ts), the plan's private addresses made real on the lab's nodes, the translation with
 * its deviations (printed), applied (apply.ts) and converged within a bound. Plus helpers to find tasks and run
 * commands in their containers, on the node that runs them.
 */
import { spawnSync } from "node:child_process";
import Docker from "dockerode";
import { OfflinePlan } from "../../offline/engine";
import { planStack } from "../harness";
import { ApplyReport, applyTranslation, waitConverged } from "./apply";
import { applyDeviations, kernelHasIpvs, printDeviations } from "./deviations";
import { loadImages, ROLLOUT_BACKEND_IMAGE } from "./images";
import { docker as dockerCli, Lab, LabNode, startLab } from "./lab";
import { PeerRegion, peerNeeds, startPeerRegion } from "./peerRegion";
import { hostsFromPlan, planAddresses } from "./planHosts";
import { Json, translatePlan, Translation } from "./translate";

export interface StackLab {
    readonly stack: string;
    readonly plan: OfflinePlan;
    readonly lab: Lab;
    /** The translation as applied (deviations made). */
    readonly translation: Translation;
    readonly deviations: string[];
    readonly firstApply: ApplyReport;
    /** Milliseconds to convergence, or the error that says which services did not converge. */
    readonly converged: { ms: number } | { error: Error };
    /** A dockerode client of a live manager (asks the lab each time: managers can die). */
    manager(): Docker;
    applyAgain(): Promise<ApplyReport>;
    /** Applies the same stack's plan with config overrides (as `pulumi config set` + `pulumi up` would). */
    applyWith(overrides: Record<string, string>): Promise<{ report: ApplyReport; translation: Translation }>;
    /** Hostname -> the plan's private address of that host (made real on the lab's nodes). */
    readonly planAddresses: Map<string, string>;
    /** A standby stack's stand-in primary region (peerRegion.ts); undefined for a primary stack. */
    readonly peer?: PeerRegion;
    stop(): Promise<void>;
}

/** The lab's health-check timing factor (deviations.ts): SWARM_HEALTH_SCALE, default 3; 1 keeps the plan's. */
export const HEALTH_SCALE = Number(process.env.SWARM_HEALTH_SCALE ?? 3);

/** Bound on convergence after an apply: Patroni's start period is 120 s; images are local. */
export const CONVERGE_MS = Number(process.env.SWARM_CONVERGE_S ?? 420) * 1000;

/**
 * The plan gives each host a private address that services are told about (Redis and Sentinel announce them,
 * the backend's REDIS_SENTINELS lists them). The lab's nodes have their own bridge addresses; this adds each
 * host's plan address to its node's eth0 and an on-link route to it on every other node, so those addresses work.
 */
export function addPlanAddresses(lab: Lab, plan: OfflinePlan): Map<string, string> {
    const addr = planAddresses(plan);
    for (const n of lab.nodes) if (!addr.has(n.hostname)) throw new Error(`no plan address for lab node ${n.hostname}`);
    const ip = (args: string[]) => {
        const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
        if (r.status !== 0 && !/File exists/.test(r.stderr)) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
    };
    for (const n of lab.nodes) {
        ip(["-n", n.netns, "addr", "add", `${addr.get(n.hostname)}/32`, "dev", "eth0"]);
        for (const o of lab.nodes) if (o !== n) ip(["-n", o.netns, "route", "add", `${addr.get(n.hostname)}/32`, "dev", "eth0"]);
    }
    return addr;
}

/** Brings up `stack`'s plan on a new lab. Convergence failure is recorded, not thrown (the tests report it). */
export async function startStackLab(stack: string, log: (s: string) => void = (s) => process.stdout.write(s)): Promise<StackLab> {
    const plan = planStack(stack);
    const hosts = hostsFromPlan(plan);
    const t0 = Date.now();
    const lab = await startLab({ hosts });
    let peer: PeerRegion | undefined;
    const stop = async () => {
        peer?.stop();
        await lab.stop();
    };
    try {
        log(`# ${stack}: lab of ${lab.nodes.length} hosts up in ${Date.now() - t0} ms\n`);
        const t1 = Date.now();
        // The rolling-update bench's "new backend image" goes where the backend can run.
        const backend = String(translatePlan(plan).services.find((x) => x.spec.Name === "opscenter-backend-blue")?.spec.TaskTemplate.ContainerSpec.Image);
        await loadImages(lab, plan, { extra: { [ROLLOUT_BACKEND_IMAGE]: backend }, log });
        log(`# ${stack}: images loaded in ${Date.now() - t1} ms\n`);
        const addresses = addPlanAddresses(lab, plan);
        const info = JSON.parse(dockerCli(lab.nodes[0].socket, ["info", "--format", "{{json .}}"])) as { NCPU: number; MemTotal: number };
        const deviate = (p: OfflinePlan) => applyDeviations(translatePlan(p), hosts, { cpus: info.NCPU, memoryBytes: info.MemTotal }, { ipvs: kernelHasIpvs(), healthScale: HEALTH_SCALE });
        const d = deviate(plan);
        const needs = peerNeeds(d.translation, new Set(addresses.values()));
        peer = needs && (await startPeerRegion(lab, needs));
        printDeviations([...d.lines, ...(peer?.lines ?? [])], log);
        const manager = () => new Docker({ socketPath: lab.managerSocket() });
        const t2 = Date.now();
        const firstApply = await applyTranslation(manager(), plan, d.translation, log);
        log(`# ${stack}: applied ${firstApply.created.length} objects in ${Date.now() - t2} ms\n`);
        let converged: StackLab["converged"];
        try {
            if (firstApply.failed.length > 0) {
                throw new Error(`the apply failed (as pulumi up would): ${firstApply.failed.map((f) => `${f.name}: ${f.error}`).join("; ")}; not created: ${firstApply.skipped.join(", ") || "none"}`);
            }
            converged = { ms: await waitConverged(manager(), d.translation.services.map((s) => s.spec.Name), CONVERGE_MS, log) };
            log(`# ${stack}: converged in ${converged.ms} ms\n`);
        } catch (e) {
            const why = lastExits(lab, d.translation.services.map((x) => x.spec.Name));
            converged = { error: new Error(`${(e as Error).message}\nlast exited containers:\n${why.join("\n")}`) };
            log(`# ${stack}: ${converged.error.message}\n`);
        }
        return {
            stack, plan, lab, translation: d.translation, deviations: d.lines, firstApply, converged, manager,
            applyAgain: () => applyTranslation(manager(), plan, d.translation, log),
            applyWith: async (overrides) => {
                const p = planStack(stack, overrides);
                const t = deviate(p).translation;
                return { report: await applyTranslation(manager(), p, t, log), translation: t };
            },
            planAddresses: addresses,
            peer,
            stop,
        };
    } catch (e) {
        await stop();
        throw e;
    }
}

/** The last lines of the newest exited container of each service, on every live node (why tasks keep failing). */
export function lastExits(lab: Lab, services: string[]): string[] {
    const out: string[] = [];
    for (const name of services) {
        for (const n of lab.nodes) {
            try {
                const id = dockerCli(n.socket, ["ps", "-a", "-q", "--filter", "status=exited", "--filter", `label=com.docker.swarm.service.name=${name}`], { timeoutMs: 15_000 }).split("\n")[0];
                if (!id) continue;
                const logs = spawnSync("docker", ["logs", "--tail", "3", id], { encoding: "utf8", timeout: 15_000, env: { ...process.env, DOCKER_HOST: `unix://${n.socket}` } });
                out.push(`  ${name} on ${n.hostname}: ${`${logs.stdout}${logs.stderr}`.trim().split("\n").slice(-3).join(" | ").slice(0, 400)}`);
                break;
            } catch {
                /* a dead node */
            }
        }
    }
    return out;
}

export interface RunningTask { id: string; service: string; node: LabNode; containerId: string }

/** Swarm node id -> lab node (asked of each live node's engine once). */
const nodeIds = new WeakMap<Lab, Map<string, LabNode>>();
export function labNodeById(lab: Lab, nodeId: string): LabNode | undefined {
    let m = nodeIds.get(lab);
    if (!m || !m.has(nodeId)) {
        m = new Map();
        for (const n of lab.nodes) {
            try {
                m.set(dockerCli(n.socket, ["info", "--format", "{{.Swarm.NodeID}}"], { timeoutMs: 10_000 }), n);
            } catch {
                /* a killed host: keep what we knew */
                for (const [k, v] of nodeIds.get(lab) ?? []) if (v === n) m.set(k, v);
            }
        }
        nodeIds.set(lab, m);
    }
    return m.get(nodeId);
}

/** The running tasks of a service, each with its node and container. */
export async function runningTasks(s: StackLab, service: string): Promise<RunningTask[]> {
    const tasks = (await s.manager().listTasks({ filters: { service: [service], "desired-state": ["running"] } })) as Json[];
    return tasks
        .filter((t) => (t.Status as Json).State === "running")
        .map((t) => {
            const node = labNodeById(s.lab, String(t.NodeID));
            if (!node) throw new Error(`task ${t.ID} of ${service} runs on node ${t.NodeID}, not one of the lab's`);
            return { id: String(t.ID), service, node, containerId: String(((t.Status as Json).ContainerStatus as Json).ContainerID) };
        });
}

/** Runs `cmd` in a task's container as the container's own user (docker exec without -u). */
export function execIn(t: RunningTask, cmd: string[], opts: { timeoutMs?: number; allowFail?: boolean; user?: string; env?: Record<string, string> } = {}): { code: number; stdout: string; stderr: string } {
    const envArgs = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const r = spawnSync("docker", ["exec", ...(opts.user ? ["-u", opts.user] : []), ...envArgs, t.containerId, ...cmd], {
        encoding: "utf8",
        timeout: opts.timeoutMs ?? 30_000,
        env: { ...process.env, DOCKER_HOST: `unix://${t.node.socket}` },
        maxBuffer: 16 * 1024 * 1024,
    });
    const out = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    if (out.code !== 0 && !opts.allowFail) throw new Error(`exec in ${t.service} on ${t.node.hostname}: ${cmd.join(" ")} exited ${out.code}: ${out.stderr.trim().slice(-500)}`);
    return out;
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; then throws with the last error. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, everyMs = 2000): Promise<T> {
    const start = Date.now();
    let last: unknown;
    while (Date.now() - start < timeoutMs) {
        try {
            const v = await check();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        await new Promise((r) => setTimeout(r, everyMs));
    }
    throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? `: ${last instanceof Error ? last.message : String(last)}` : ""}`);
}
