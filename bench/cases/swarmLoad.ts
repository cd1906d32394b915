/**
 * Load cases on the Swarm lab: a steady request load on the backend while the Swarm changes under it; the figure is
 * failed requests (target 0), the seconds are how long the operation took until the Swarm converged again.
 *
 * The load: a client loop in a frontend container (on the edge overlay, as Traefik is) requesting the backend's
 * /health on its Swarm service name every 0.1 s with a 2 s bound (curl tries the next address of the name when one
 * refuses). On this kernel the name resolves by DNS round robin over the tasks (no IPVS: no VIP, no ingress mesh;
 * see test/swarm/deviations.ts), and there is no Traefik binary, so Traefik's retry middleware is not in the path:
 * each failed request here is one a client would have seen without Traefik's retry.
 *
 * swarm_backend_rolling_update: `backendImage` set to the next patch tag (a stand-in the lab loads under that tag) and the plan applied: the
 * active colour's service rolls its tasks by the plan's updateConfig. swarm_blue_green_switch: `activeColor`
 * switched and the plan applied, load on both colours. swarm_node_drain: an app host drained (node availability
 * drain, as an operator does before maintenance) until it runs no backend container, then made active again and the
 * backend converged; failed requests over all of it.
 */
import { progress, waitConverged } from "../../test/swarm/apply";
import { TRAEFIK_DEFAULTS } from "../../renderers/traefik";
import { ROLLOUT_BACKEND_IMAGE } from "../../test/swarm/images";
import { docker } from "../../test/swarm/lab";
import { eventually, runningTasks, StackLab } from "../../test/swarm/support";
import { CaseResult, summarise } from "../types";
import { Loop, startLoop } from "./swarmLoop";

/** The names of every service the stack's plan deploys. */
export const services = (s: StackLab) => s.translation.services.map((x) => x.spec.Name);
export const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** A load case's result: its seconds and failed requests (no acknowledged writes: it writes nothing). */
export function loadResult(samples: number[], failed: number, notes: string): CaseResult {
    const { acknowledged_writes_lost: _none, ...r } = summarise(samples, 0, { notes });
    return { ...r, failed_requests: failed };
}

/**
 * The plan's Traefik retry as the load client applies it (the lab has no Traefik binary): up to `attempts` tries,
 * each connect bounded by the plan's dial timeout, `initialinterval` apart (renderers/traefik.ts TRAEFIK_DEFAULTS).
 */
export const TRAEFIK_RETRY = { attempts: TRAEFIK_DEFAULTS.retryAttempts, dialS: parseFloat(TRAEFIK_DEFAULTS.dialTimeout), intervalS: parseFloat(TRAEFIK_DEFAULTS.retryInitialInterval) / 1000 };

/**
 * Starts the load on `targets` from a frontend task (one not on host `notOn`), once 10 requests succeeded. With
 * `traefikRetry` a request is retried as the plan's Traefik retries it (TRAEFIK_RETRY); one that needed a retry
 * prints `retried N` (so first-try failures stay countable: {@link firstTryFailedSince}).
 */
export async function loadOn(s: StackLab, targets: string[], notOn?: string, opts: { traefikRetry?: boolean } = {}): Promise<Loop> {
    const client = (await runningTasks(s, "opscenter-frontend")).find((t) => t.node.hostname !== notOn);
    if (!client) throw new Error(`no running frontend task${notOn ? ` off ${notOn}` : ""} to send the load from`);
    const port = 8084;
    const once = targets.map((t) => `curl -fsS -m 2 -o /dev/null http://${t}:${port}/health`).join(" && ");
    const r = TRAEFIK_RETRY;
    const tryOnce = targets.map((t) => `curl -fsS --connect-timeout ${r.dialS} -m ${r.dialS + 1} -o /dev/null http://${t}:${port}/health`).join(" && ");
    const attempt = opts.traefikRetry
        ? `i=0; while [ $i -lt ${r.attempts} ]; do i=$((i+1)); if ${tryOnce}; then [ $i -gt 1 ] && echo "retried $((i-1))"; exit 0; fi; sleep ${r.intervalS}; done; exit 1`
        : once;
    const loop = startLoop(client, attempt, { intervalS: 0.1, maxSeconds: 900 });
    await loop.okAfter(0, 10, 60_000);
    return loop;
}

export function failedSince(loop: Loop, fromS: number): number {
    return loop.attempts.filter((a) => !a.ok && a.start >= fromS).length;
}

/** A request whose first try failed: failed for good, or acknowledged after a retry (`loadOn` with traefikRetry). */
export function firstTryFailed(a: Loop["attempts"][number]): boolean {
    return !a.ok || /^retried \d+/.test(a.detail);
}

/** Requests from `fromS` on whose first try failed. */
export function firstTryFailedSince(loop: Loop, fromS: number): number {
    return loop.attempts.filter((a) => a.start >= fromS && firstTryFailed(a)).length;
}

/** Waits until no service of `names` has an update in flight and all run their tasks. */
async function settle(s: StackLab, names: string[], timeoutMs: number): Promise<void> {
    await eventually("update finished", timeoutMs, async () => {
        const p = await progress(s.manager(), names);
        return p.every((x) => x.problems.every((m) => !/^update (updating|rollback_started|paused|rollback_paused)/.test(m)) && x.running >= x.desired) ? true : undefined;
    });
}

export async function swarmBackendRollingUpdate(s: StackLab, runs: number): Promise<CaseResult> {
    const original = String(s.translation.services.find((x) => x.spec.Name === "opscenter-backend-blue")!.spec.TaskTemplate.ContainerSpec.Image);
    // The "new image": the lab loads a stand-in tagged ROLLOUT_BACKEND_IMAGE (the next patch version) on the app hosts.
    const next = ROLLOUT_BACKEND_IMAGE;
    const samples: number[] = [];
    const notes: string[] = [];
    let failed = 0;
    for (let run = 1; run <= runs; run++) {
        const image = run % 2 === 1 ? next : original;
        const loop = await loadOn(s, ["opscenter-backend-blue"]);
        try {
            const t0 = Date.now() / 1000;
            const { report } = await s.applyWith({ backendImage: image });
            const rolled = report.updated.map((u) => u.name);
            await settle(s, ["opscenter-backend-blue", "opscenter-backend-green"], 600_000);
            const secs = Date.now() / 1000 - t0;
            await new Promise((r) => setTimeout(r, 2000));
            const f = failedSince(loop, t0);
            samples.push(r3(secs));
            failed += f;
            notes.push(`run ${run}: to ${image} (${rolled.join(", ") || "no service updated"}): ${f} failed of ${loop.attempts.filter((a) => a.start >= t0).length}`);
        } finally {
            await loop.stop();
        }
    }
    await s.applyWith({});
    await waitConverged(s.manager(), services(s), 600_000);
    return loadResult(samples, failed, `Swarm lab (${s.stack}); ${notes.join("; ")}`);
}

export async function swarmBlueGreenSwitch(s: StackLab, runs: number): Promise<CaseResult> {
    const samples: number[] = [];
    const notes: string[] = [];
    let failed = 0;
    for (let run = 1; run <= runs; run++) {
        const colour = run % 2 === 1 ? "green" : "blue";
        const loop = await loadOn(s, ["opscenter-backend-blue", "opscenter-backend-green"]);
        try {
            const t0 = Date.now() / 1000;
            const { report } = await s.applyWith({ activeColor: colour });
            await settle(s, ["opscenter-backend-blue", "opscenter-backend-green"], 600_000);
            const secs = Date.now() / 1000 - t0;
            await new Promise((r) => setTimeout(r, 2000));
            const f = failedSince(loop, t0);
            samples.push(r3(secs));
            failed += f;
            notes.push(`run ${run}: active ${colour} (updated ${report.updated.map((u) => u.name).join(", ") || "nothing"}): ${f} failed`);
        } finally {
            await loop.stop();
        }
    }
    await s.applyWith({});
    await waitConverged(s.manager(), services(s), 600_000);
    return loadResult(samples, failed, `Swarm lab (${s.stack}); Traefik's router switch itself is not exercised (no Traefik binary: the rendered-config tests prove its routing); load on both colours' services; ${notes.join("; ")}`);
}

export async function swarmNodeDrain(s: StackLab, runs: number): Promise<CaseResult> {
    const samples: number[] = [];
    const notes: string[] = [];
    let failed = 0;
    const apps = s.lab.nodes.filter((n) => n.role === "app" && !n.manager).concat(s.lab.nodes.filter((n) => n.role === "app"));
    const backends = ["opscenter-backend-blue", "opscenter-backend-green"];
    type NodeObj = { ID: string; Version: { Index: number }; Spec: Record<string, unknown> };
    const setAvailability = async (id: string, availability: "drain" | "active") => {
        const node = (await s.manager().listNodes()).find((n) => (n as NodeObj).ID === id) as NodeObj;
        await s.manager().getNode(id).update({ _query: { version: node.Version.Index }, _body: { ...node.Spec, Availability: availability } } as never);
    };
    for (let run = 1; run <= runs; run++) {
        const host = apps[(run - 1) % apps.length];
        const node = (await s.manager().listNodes()).find((n) => (n as { Description?: { Hostname?: string } }).Description?.Hostname === host.hostname) as NodeObj;
        const loop = await loadOn(s, ["opscenter-backend-blue"], host.hostname);
        let reactivated = false;
        try {
            const t0 = Date.now() / 1000;
            await setAvailability(node.ID, "drain");
            // Drained: no backend container left running on the host itself (asked of its own engine, not the
            // manager's desired state, which changes at once).
            await eventually(`no backend container left running on ${host.hostname}`, 300_000, () => {
                const ids = backends.flatMap((b) => docker(host.socket, ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${b}`], { timeoutMs: 15_000 }).split("\n").filter(Boolean));
                return ids.length === 0 ? true : undefined;
            }, 500);
            const drainedS = Date.now() / 1000 - t0;
            // Maintenance done: the host back in service, the backend back to its replicas, the load still running.
            await setAvailability(node.ID, "active");
            reactivated = true;
            await waitConverged(s.manager(), backends, 600_000);
            await new Promise((r) => setTimeout(r, 5000));
            const f = failedSince(loop, t0);
            samples.push(r3(drainedS));
            failed += f;
            notes.push(`run ${run}: ${host.hostname} drained in ${r3(drainedS)} s and back in ${r3(Date.now() / 1000 - t0)} s: ${f} failed of ${loop.attempts.filter((a) => a.start >= t0).length}`);
        } finally {
            await loop.stop();
            if (!reactivated) await setAvailability(node.ID, "active");
        }
        await waitConverged(s.manager(), services(s), 600_000);
    }
    return loadResult(samples, failed, `Swarm lab (${s.stack}); seconds from the drain until the host ran no backend container; failed requests from the drain until the host was active again and the backend converged; ${notes.join("; ")}`);
}
