/**
 * Reads a plan file for the policy runner, the diff and the cost: either our offline plan JSON
 * (`npm run plan -- <stack> --json`) or `pulumi preview --json` output (its `steps[].newState`, where values the
 * engine cannot know yet are Pulumi's unknown sentinels, which the policy runtime's proxy recognises).
 */
import type { PlanLike } from "./policyRun";

type Res = PlanLike["resources"][number];

/** Parses `text` into a plan; `stack` names it when the file does not. */
export function loadPlanFile(text: string, stack?: string): PlanLike {
    const doc = JSON.parse(text) as Record<string, unknown>;
    if (Array.isArray(doc.resources)) {
        return { project: String(doc.project ?? ""), stack: String(doc.stack ?? stack ?? ""), resources: doc.resources as Res[] };
    }
    if (Array.isArray(doc.steps)) {
        const resources: Res[] = [];
        for (const step of doc.steps as Record<string, unknown>[]) {
            const s = step.newState as Record<string, unknown> | undefined;
            if (!s || step.op === "delete") continue;
            resources.push({
                urn: String(s.urn),
                type: String(s.type),
                name: String(s.urn).split("::").pop() ?? "",
                parent: (s.parent as string) ?? null,
                ...(s.id ? { id: String(s.id) } : {}),
                ...(typeof s.provider === "string" ? { provider: s.provider.split("::").slice(0, -1).join("::") } : {}),
                inputs: (s.inputs as Record<string, unknown>) ?? {},
            });
        }
        const urn = resources[0]?.urn ?? "";
        return { project: urn.split("::")[1] ?? "", stack: stack ?? urn.split("::")[0].split(":").pop() ?? "", resources };
    }
    throw new Error("not a plan: expected `resources` (npm run plan -- --json) or `steps` (pulumi preview --json)");
}
