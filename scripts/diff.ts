/**
 * `npm run diff -- <stack> --base <git-ref> [--markdown] [--json] [--npm-ci] [--out FILE]`: plans the stack
 * offline at the base ref and at the working tree, and prints what changes by URN and input: created, deleted,
 * updated, replaced (per the providers' replace-on-change inputs); stateful resources replaced or deleted come
 * first, in red. `--markdown` prints the pull-request comment (diff, policy result, cost before/after).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { diffPlans, formatDiff } from "../offline/diff";
import { planAtRef, planIn } from "../offline/gitPlan";
import { blocks } from "../offline/policyRun";
import { prJob } from "../offline/prJob";
import { regionOf } from "./costRegion";

async function cli(argv: string[]): Promise<number> {
    const opt = (n: string) => (argv.indexOf(n) >= 0 ? argv[argv.indexOf(n) + 1] : undefined);
    const base = opt("--base");
    const out = opt("--out");
    const stack = argv.find((a, i) => !a.startsWith("--") && !["--base", "--out"].includes(argv[i - 1]));
    if (!stack || !base) {
        process.stderr.write("usage: npm run diff -- <stack> --base <git-ref> [--markdown] [--json] [--npm-ci] [--out FILE]\n");
        return 2;
    }
    const root = path.resolve(__dirname, "..");
    const npmCi = argv.includes("--npm-ci");
    let text: string;
    let code = 0;
    if (argv.includes("--markdown")) {
        const job = await prJob(root, stack, base, regionOf(root, stack), { npmCi });
        text = job.comment;
        code = blocks(job.policy) || job.diff.refused.length > 0 ? 1 : 0;
    } else {
        const diff = diffPlans(planAtRef(root, base, stack, { npmCi }), planIn(root, stack));
        text = argv.includes("--json") ? JSON.stringify(diff, null, 2) + "\n" : formatDiff(diff, process.stdout.isTTY === true && !argv.includes("--no-color"));
        code = diff.refused.length > 0 ? 1 : 0;
    }
    if (out) fs.writeFileSync(out, text);
    else process.stdout.write(text);
    return code;
}

cli(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
        process.stderr.write(`diff failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(2);
    },
);
