/**
 * The offline pull-request job for one stack: plan at the base ref and at the working tree, run the policy
 * pack on the new plan, diff the two, price both, and build the PR comment. Used by `npm run diff -- --markdown`
 * and `npm run pr:offline` (what the pull-request workflow and .ci/run call).
 */
import { costOfPlan } from "./cost";
import { diffPlans, PlanDiff } from "./diff";
import { planAtRef, planIn } from "./gitPlan";
import { prComment } from "./prComment";
import { runPack } from "./policyReport";
import type { PolicyReport } from "./policyRun";

export interface PrJobResult {
    readonly comment: string;
    readonly diff: PlanDiff;
    readonly policy: PolicyReport;
}

export async function prJob(root: string, stack: string, baseRef: string, region: string, opts: { npmCi?: boolean } = {}): Promise<PrJobResult> {
    const before = planAtRef(root, baseRef, stack, opts);
    const after = planIn(root, stack);
    const diff = diffPlans(before, after);
    const policy = await runPack(after);
    const comment = prComment({ stack, baseRef, diff, policy, costBefore: costOfPlan(before, region), costAfter: costOfPlan(after, region) });
    return { comment, diff, policy };
}
