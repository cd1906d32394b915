/**
 * The policy report in the two shapes the CLI prints (text like `pulumi preview --policy-pack`, and JSON),
 * and the project's pack run with its exemptions.
 */
import { ALL_POLICIES, PACK_NAME, PACK_VERSION } from "../policies/all";
import { EXEMPTIONS } from "../policies/exemptions";
import { blocks, evaluatePolicies, PackConfig, PlanLike, PolicyReport } from "./policyRun";

/** The report as `pulumi preview --policy-pack` lays it out, plus exemptions and what could not be evaluated. */
export function formatReport(r: PolicyReport): string {
    const lines: string[] = [];
    const mark = blocks(r) ? "❌" : "✅";
    lines.push(`Policies:`, `    ${mark} ${r.pack}@v${r.version} (local: policies) on stack ${r.stack}: ${r.evaluated} policies`);
    const order = { mandatory: 0, "not-evaluated": 1, advisory: 2 } as const;
    const findings = [...r.findings].sort((a, b) => order[a.level] - order[b.level] || a.policy.localeCompare(b.policy));
    if (findings.length) lines.push("", "Policy Violations:");
    for (const f of findings) {
        const where = f.urn ? ` (${f.urn.split("::").pop()}: ${(f.urn.split("::")[2] ?? "").split("$").pop()})` : "";
        lines.push(`    [${f.level}]  ${r.pack} v${r.version}  ${f.policy}${where}`);
        for (const l of f.message.split("\n")) lines.push(`    ${l}`);
        if (f.remediation) lines.push(`    fix: ${f.remediation}`);
    }
    if (r.exempt.length) {
        lines.push("", "Exempted (not counted):");
        for (const e of r.exempt) lines.push(`    ${e.policy} on ${e.urn.split("::").pop()}: ${e.reason}`, `        ${e.message}`);
    }
    for (const e of r.unusedExemptions) lines.push(`    unused exemption: ${e.policy} on ${e.resource} (remove it)`);
    const na = Object.entries(r.notApplicable);
    if (na.length) {
        lines.push("", "Not applicable to this stack:");
        for (const [p, why] of na) lines.push(`    ${p}: ${[...new Set(why)].join("; ")}`);
    }
    const count = (l: string) => r.findings.filter((f) => f.level === l).length;
    lines.push("", `${count("mandatory")} mandatory, ${count("advisory")} advisory, ${count("not-evaluated")} could not be evaluated, ${r.exempt.length} exempted`);
    return lines.join("\n") + "\n";
}

/** The `--json` form: one entry per finding (pack, policy, level, urn, message). */
export function reportJson(r: PolicyReport): string {
    return JSON.stringify(
        {
            pack: `${r.pack}@${r.version}`,
            stack: r.stack,
            passed: !blocks(r),
            violations: r.findings.map((f) => ({ pack: r.pack, policy: f.policy, level: f.level, urn: f.urn ?? null, message: f.message })),
            exempt: r.exempt,
            notApplicable: r.notApplicable,
        },
        null,
        2,
    );
}

/** Evaluates the pack on a plan with the project's exemptions and an optional pack config. */
export function runPack(plan: PlanLike, config?: PackConfig): Promise<PolicyReport> {
    return evaluatePolicies(plan, { pack: PACK_NAME, version: PACK_VERSION, policies: ALL_POLICIES, exemptions: EXEMPTIONS, config, packLevel: "mandatory" });
}
