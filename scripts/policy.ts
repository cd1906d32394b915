/**
 * `npm run policy -- <stack> [--json] [--plan FILE] [--config FILE]`: evaluates the policy pack (policies/)
 * in this process against the offline plan of <stack>, or against a plan JSON file (`npm run plan -- --json`
 * output, or `pulumi preview --json` output). Prints violations like `pulumi preview --policy-pack`; exits 1 on
 * any mandatory violation or any mandatory policy that could not be evaluated.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runOffline } from "../offline/engine";
import { mockPrimaryOutputs } from "../offline/primaryFixture";
import { loadPlanFile } from "../offline/planFile";
import { formatReport, reportJson, runPack } from "../offline/policyReport";
import { blocks, PackConfig, PlanLike } from "../offline/policyRun";

async function cli(argv: string[]): Promise<number> {
    const opt = (name: string) => {
        const i = argv.indexOf(name);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const planFile = opt("--plan");
    const configFile = opt("--config");
    const stack = argv.find((a, i) => !a.startsWith("--") && argv[i - 1] !== "--plan" && argv[i - 1] !== "--config");
    if (!stack && !planFile) {
        process.stderr.write("usage: npm run policy -- <stack> [--json] [--plan FILE] [--config FILE]\n");
        return 2;
    }
    const root = path.resolve(__dirname, "..");
    const plan: PlanLike = planFile
        ? loadPlanFile(fs.readFileSync(planFile, "utf8"), stack)
        : await runOffline({ root, stack: stack!, stackOutputs: (n) => mockPrimaryOutputs(root, n) });
    const config = configFile ? (JSON.parse(fs.readFileSync(configFile, "utf8")) as PackConfig) : undefined;
    const report = await runPack(plan, config);
    process.stdout.write(argv.includes("--json") ? reportJson(report) + "\n" : formatReport(report));
    return blocks(report) ? 1 : 0;
}

cli(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
        process.stderr.write(`policy run failed: ${err instanceof Error ? (process.env.DEBUG ? err.stack : err.message) : String(err)}\n`);
        process.exit(2);
    },
);
