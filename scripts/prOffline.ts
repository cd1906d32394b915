/**
 * `npm run pr:offline -- <stack> [--base REF] [--out FILE]`: the pull-request job that needs no cloud
 * credentials, for one stack (the workflow's matrix job and .ci/run call it): offline plan at the base ref and
 * at the working tree, the policy pack, the diff and the cost, written as the PR comment (to --out, or stdout);
 * the policy report goes to stderr. Exits 1 on a mandatory violation. The base defaults to origin/main, then main.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatReport } from "../offline/policyReport";
import { blocks } from "../offline/policyRun";
import { prJob } from "../offline/prJob";
import { regionOf } from "./costRegion";

function defaultBase(root: string): string {
    for (const ref of ["origin/main", "main"]) {
        try {
            execFileSync("git", ["-C", root, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { stdio: "ignore" });
            return ref;
        } catch {
            // try the next
        }
    }
    return "HEAD";
}

async function cli(argv: string[]): Promise<number> {
    const opt = (n: string) => (argv.indexOf(n) >= 0 ? argv[argv.indexOf(n) + 1] : undefined);
    const stack = argv.find((a, i) => !a.startsWith("--") && !["--base", "--out"].includes(argv[i - 1]));
    if (!stack) {
        process.stderr.write("usage: npm run pr:offline -- <stack> [--base REF] [--out FILE] [--npm-ci]\n");
        return 2;
    }
    const root = path.resolve(__dirname, "..");
    const base = opt("--base") ?? defaultBase(root);
    const job = await prJob(root, stack, base, regionOf(root, stack), { npmCi: argv.includes("--npm-ci") });
    const out = opt("--out");
    if (out) fs.writeFileSync(out, job.comment);
    else process.stdout.write(job.comment);
    process.stderr.write(formatReport(job.policy));
    for (const r of job.diff.refused) process.stderr.write(`REFUSED: ${r}\n`);
    return blocks(job.policy) || job.diff.refused.length > 0 ? 1 : 0;
}

cli(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
        process.stderr.write(`pr:offline failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(2);
    },
);
