/**
 * `npm run cost -- <stack> [--json] [--plan FILE]`: the monthly cost of the stack's offline plan (or of a plan
 * JSON file) from the pinned price table in offline/prices.ts, with every usage assumption printed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { costOfPlan, formatCost } from "../offline/cost";
import { runOffline } from "../offline/engine";
import { loadPlanFile } from "../offline/planFile";
import { mockPrimaryOutputs } from "../offline/primaryFixture";
import { regionOf } from "./costRegion";

async function cli(argv: string[]): Promise<number> {
    const i = argv.indexOf("--plan");
    const planFile = i >= 0 ? argv[i + 1] : undefined;
    const stack = argv.find((a, j) => !a.startsWith("--") && (i < 0 || j !== i + 1));
    if (!stack) {
        process.stderr.write("usage: npm run cost -- <stack> [--json] [--plan FILE]\n");
        return 2;
    }
    const root = path.resolve(__dirname, "..");
    const plan = planFile ? loadPlanFile(fs.readFileSync(planFile, "utf8"), stack) : await runOffline({ root, stack, stackOutputs: (n) => mockPrimaryOutputs(root, n) });
    const report = costOfPlan(plan, regionOf(root, stack));
    process.stdout.write(argv.includes("--json") ? JSON.stringify(report, null, 2) + "\n" : formatCost(report));
    return 0;
}

cli(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
        process.stderr.write(`cost failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(2);
    },
);
