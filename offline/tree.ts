/** Text form of the offline plan: the resource tree (type, name) under each parent, and counts by type. */
import { isSecretValue, OfflinePlan, RecordedResource } from "./engine";

export function printTree(plan: OfflinePlan): string {
    const lines: string[] = [
        `Offline plan of stack ${plan.stack} (project ${plan.project}).`,
        "This is NOT a cloud preview: the program ran under Pulumi's mock engine; nothing was read from or sent to a cloud,",
        "and ids, addresses and generated secrets are invented. Use `pulumi preview --stack " + plan.stack + "` for a real diff.",
        "",
    ];
    const children = new Map<string | undefined, RecordedResource[]>();
    const urns = new Set(plan.resources.map((r) => r.urn));
    for (const r of plan.resources) {
        const parent = r.parent && urns.has(r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const walk = (parent: string | undefined, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            lines.push(`${"  ".repeat(depth)}${depth ? "└─ " : ""}${r.type}  ${r.name}`);
            walk(r.urn, depth + 1);
        }
    };
    walk(undefined, 0);
    const counts = new Map<string, number>();
    for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    lines.push("", `Resources by type (${plan.resources.length} in all):`);
    for (const [type, n] of [...counts].sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`  ${String(n).padStart(4)}  ${type}`);
    lines.push("", "Outputs:");
    for (const k of Object.keys(plan.outputs).sort()) {
        const v = plan.outputs[k];
        const shown = isSecretValue(v) ? "[secret]" : JSON.stringify(v);
        lines.push(`  ${k}: ${shown}`);
    }
    return lines.join("\n") + "\n";
}
