/**
 * Day-2 operations on the Swarm lab (issue: replace any host without losing quorum or data).
 *
 * swarm_manager_replacement: the init manager's host (app-0, the one whose cloud-init once ran `docker swarm init`)
 * dies and is replaced by a new instance: a new instance id, an empty root volume, the same hostname and role. Its
 * own cloud-init bootstrap must find a live manager and join the existing Swarm (never `init` a second one), and the
 * managers' labelling pass removes the Down node it superseded. Under a steady request load on the backend from a
 * frontend task on another host. Seconds from the kill until the Swarm is one Swarm again (every node in the
 * managers' table, three Ready managers, no Down node) and every service has converged; failed requests.
 */
import { waitConverged } from "../../test/swarm/apply";
import { loadImages, ROLLOUT_BACKEND_IMAGE } from "../../test/swarm/images";
import { docker, nodeTable } from "../../test/swarm/lab";
import { eventually, StackLab } from "../../test/swarm/support";
import { CaseResult } from "../types";
import { failedSince, loadOn, loadResult, r3, services } from "./swarmLoad";

/** One Swarm: the managers agree on one cluster, every lab node is in their table and Ready, and `managers` of them are managers. */
function swarmState(s: StackLab): { clusters: number; nodes: number; ready: number; managers: number; down: string[] } {
    const managers = s.lab.nodes.filter((n) => n.manager);
    const clusters = new Set(managers.map((n) => docker(n.socket, ["info", "--format", "{{.Swarm.Cluster.ID}}"], { timeoutMs: 10_000 })));
    const table = nodeTable(s.lab.managerSocket());
    const ids = s.lab.nodes.map((n) => docker(n.socket, ["info", "--format", "{{.Swarm.NodeID}}"], { timeoutMs: 10_000 }));
    return {
        clusters: clusters.size,
        nodes: ids.filter((id) => table.some((x) => x.id === id)).length,
        ready: table.filter((x) => x.status === "ready").length,
        managers: table.filter((x) => x.role === "manager" && x.status === "ready").length,
        down: table.filter((x) => x.status !== "ready").map((x) => `${x.hostname} ${x.status}`),
    };
}

export async function swarmManagerReplacement(s: StackLab, runs: number): Promise<CaseResult> {
    const init = s.lab.nodes.find((n) => n.initManager);
    if (!init) throw new Error("the lab has no init manager");
    const managers = s.lab.nodes.filter((n) => n.manager).length;
    const backendImage = String(s.translation.services.find((x) => x.spec.Name === "opscenter-backend-blue")!.spec.TaskTemplate.ContainerSpec.Image);
    const samples: number[] = [];
    const notes: string[] = [];
    let failed = 0;
    for (let run = 1; run <= runs; run++) {
        const loop = await loadOn(s, ["opscenter-backend-blue"], init.hostname);
        try {
            const t0 = Date.now() / 1000;
            await s.lab.killHost(init.hostname);
            // A new instance of the host: the lab gives it an empty disk; it gets the images the plan places on it.
            await s.lab.replaceHost(init.hostname, async (node) => {
                await loadImages({ nodes: [node] }, s.plan, { extra: { [ROLLOUT_BACKEND_IMAGE]: backendImage } });
            });
            const state = await eventually(`one Swarm of ${s.lab.nodes.length} Ready nodes with ${managers} managers`, 300_000, () => {
                const x = swarmState(s);
                return x.clusters === 1 && x.nodes === s.lab.nodes.length && x.ready === s.lab.nodes.length && x.managers === managers && x.down.length === 0 ? x : undefined;
            });
            await waitConverged(s.manager(), services(s), 600_000);
            const secs = Date.now() / 1000 - t0;
            await new Promise((r) => setTimeout(r, 3000));
            const f = failedSince(loop, t0);
            samples.push(r3(secs));
            failed += f;
            notes.push(`run ${run}: ${init.hostname} replaced: ${state.clusters} Swarm, ${state.managers} managers, ${state.ready} Ready nodes, ${f} failed of ${loop.attempts.filter((a) => a.start >= t0).length}`);
            const failures = loop.attempts.filter((a) => !a.ok && a.start >= t0).map((a) => `+${(a.start - t0).toFixed(1)} s ${a.detail}`);
            process.stdout.write(`   ${notes[notes.length - 1]}; failures: ${failures.join("; ") || "none"}\n`);
        } finally {
            await loop.stop();
        }
    }
    return loadResult(samples, failed, `Swarm lab (${s.stack}): the init manager's host killed and replaced by a new empty instance (same hostname and role) that joins by its own cloud-init; seconds until one Swarm with ${managers} Ready managers and every service converged; load: the backend's /health from a frontend task on another host (no Traefik retry in the path); ${notes.join("; ")}`);
}
