/**
 * The pull-request comment for one stack (pure): a summary line of counts, the flagged (stateful) changes,
 * the policy result, the cost before / after / change, then the details in a collapsible block. Kept under
 * 60,000 characters (GitHub's limit is 65,536) by cutting the details from the end; the summary always stays.
 * The first line is a marker keyed by stack, so the workflow edits the same comment in place.
 */
import type { CostReport } from "./cost";
import { byCategory } from "./cost";
import { changeLines, counts, PlanDiff } from "./diff";
import type { PolicyReport } from "./policyRun";

export const MAX_COMMENT_CHARS = 60_000;

/** The hidden marker that identifies a stack's sticky comment. */
export function commentMarker(stack: string): string {
    return `<!-- ops-center-ha:pr-comment:${stack} -->`;
}

const usd = (x: number) => `$${x.toFixed(2)}`;
const signed = (x: number) => `${x >= 0 ? "+" : "-"}$${Math.abs(x).toFixed(2)}`;

export interface CommentInput {
    readonly stack: string;
    readonly baseRef: string;
    readonly diff: PlanDiff;
    readonly policy: PolicyReport;
    readonly costBefore: CostReport;
    readonly costAfter: CostReport;
}

export function prComment(i: CommentInput, max = MAX_COMMENT_CHARS): string {
    const c = counts(i.diff);
    const mandatory = i.policy.findings.filter((f) => f.level === "mandatory");
    const advisory = i.policy.findings.filter((f) => f.level === "advisory");
    const unknown = i.policy.findings.filter((f) => f.level === "not-evaluated");
    const head: string[] = [
        commentMarker(i.stack),
        `### Stack \`${i.stack}\`: offline plan against \`${i.baseRef}\``,
        "",
        `**${c.create} to create, ${c.update} to update, ${c.replace} to replace, ${c.delete} to delete** (${i.diff.unchanged} unchanged)` +
            ` · policy: ${mandatory.length ? `❌ ${mandatory.length} mandatory` : "✅ no mandatory"} violation(s), ${advisory.length} advisory, ${unknown.length} not evaluated, ${i.policy.exempt.length} exempted` +
            ` · cost: ${usd(i.costBefore.total)} → ${usd(i.costAfter.total)} per month (${signed(i.costAfter.total - i.costBefore.total)})`,
        "",
    ];
    if (i.diff.refused?.length) {
        head.push(`> [!CAUTION]`, `> **Refused**: this plan must not be applied as it is:`);
        for (const r of i.diff.refused) head.push(`> - ${r}`);
        head.push("");
    }
    const flagged = i.diff.changes.filter((x) => x.flagged);
    if (flagged.length) {
        head.push(`> [!CAUTION]`, `> ${flagged.length} stateful resource(s) would be **replaced or deleted**:`);
        for (const x of flagged) head.push(`> - \`${x.kind}\` ${x.type} **${x.name}**${x.replaceBecause.length ? ` (replaces on: ${x.replaceBecause.join(", ")})` : ""}`);
        head.push("");
    }
    head.push("#### Policy", "");
    if (mandatory.length === 0 && unknown.length === 0) head.push(`✅ ${i.policy.pack}@${i.policy.version}: ${i.policy.evaluated} policies, no mandatory violation.`);
    const byPolicy = new Map<string, number>();
    for (const f of [...mandatory, ...unknown]) byPolicy.set(`${f.level} ${f.policy}`, (byPolicy.get(`${f.level} ${f.policy}`) ?? 0) + 1);
    for (const [k, n] of byPolicy) head.push(`- ❌ \`${k.split(" ")[1]}\` (${k.split(" ")[0]}): ${n} violation(s)`);
    for (const e of i.policy.exempt) head.push(`- exempt: \`${e.policy}\` on ${e.urn.split("::").pop()}: ${e.reason}`);
    head.push("", "#### Cost per month", "", "| | before | after | change |", "| --- | --- | --- | --- |");
    const before = byCategory(i.costBefore);
    const after = byCategory(i.costAfter);
    for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])]) {
        const b = before[k] ?? 0;
        const a = after[k] ?? 0;
        head.push(`| ${k} | ${usd(b)} | ${usd(a)} | ${signed(a - b)} |`);
    }
    head.push(`| **total** | **${usd(i.costBefore.total)}** | **${usd(i.costAfter.total)}** | **${signed(i.costAfter.total - i.costBefore.total)}** |`, "");

    const details: string[] = [];
    for (const x of i.diff.changes) details.push(...changeLines(x));
    for (const f of i.policy.findings) details.push(`[${f.level}] ${f.policy} ${f.urn ? f.urn.split("::").pop() : "(stack)"}: ${f.message.split("\n").slice(1).join(" ") || f.message}`);
    const open = ["<details><summary>Details: every change and violation</summary>", "", "```diff"];
    const close = ["```", "</details>", ""];
    const summary = head.join("\n");
    const budget = max - summary.length - open.join("\n").length - close.join("\n").length - 200;
    const kept: string[] = [];
    let used = 0;
    for (const l of details) {
        if (used + l.length + 1 > budget) {
            kept.push(`... ${details.length - kept.length} more line(s) cut to stay under ${max} characters (run npm run diff -- ${i.stack} --base ${i.baseRef})`);
            break;
        }
        kept.push(l);
        used += l.length + 1;
    }
    const body = budget > 0 && details.length ? ["", ...open, ...kept.map((l) => l.replace(/```/g, "'''")), ...close] : [];
    return (summary + body.join("\n")).slice(0, max);
}
