/**
 * `npm run plan -- <stack> [--json] [--render <dir>] [--strict]`: the offline plan. Runs the whole program for one
 * stack under Pulumi's mock engine with that stack's config, and prints the resource tree and counts by
 * type. This is NOT a cloud preview: nothing is read from or sent to AWS, and computed values are invented.
 */
import * as path from "node:path";
import { planJson, runOffline } from "../offline/engine";
import { mockPrimaryOutputs } from "../offline/primaryFixture";
import { printTree } from "../offline/tree";
import { writeRendered } from "../offline/renderDump";

async function cli(argv: string[]): Promise<number> {
    const json = argv.includes("--json");
    const renderAt = argv.indexOf("--render");
    const renderDir = renderAt >= 0 ? argv[renderAt + 1] : undefined;
    if (renderAt >= 0 && (!renderDir || renderDir.startsWith("--"))) {
        process.stderr.write("--render needs a directory: npm run plan -- <stack> --render <dir>\n");
        return 2;
    }
    const stack = argv.find((a, i) => !a.startsWith("--") && !(renderAt >= 0 && i === renderAt + 1));
    if (!stack) {
        process.stderr.write("usage: npm run plan -- <stack> [--json] [--render <dir>] [--strict]\n  stacks: us-east-1 (primary), us-west-2 (standby)\n");
        return 2;
    }
    const root = path.resolve(__dirname, "..");
    const strict = argv.includes("--strict");
    const plan = await runOffline({ root, stack, strict, stackOutputs: (name) => mockPrimaryOutputs(root, name) });
    for (const key of plan.standIns ?? []) {
        const name = key.slice(key.indexOf(":") + 1);
        process.stderr.write(`note: ${key} is not set in Pulumi.${stack}.yaml; this offline plan used a stand-in. ` +
            `Before pulumi up: pulumi config set --secret ${name} <value> --stack ${stack} (--strict fails here as pulumi up would)\n`);
    }
    if (renderDir) {
        const n = writeRendered(plan, path.resolve(renderDir));
        process.stderr.write(`wrote ${n} rendered files to ${path.join(path.resolve(renderDir), stack)} (secrets redacted)\n`);
    }
    if (json) {
        process.stdout.write(planJson(plan) + "\n");
    } else {
        process.stdout.write(printTree(plan));
    }
    return 0;
}

cli(process.argv.slice(2)).then(
    // Exit only once everything written to a pipe is flushed (a large --json would be cut otherwise).
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
        // Config and usage errors say what to fix; a stack trace helps only with a bug (set DEBUG=1 to see it).
        const msg = err instanceof Error ? (process.env.DEBUG ? err.stack ?? err.message : err.message) : String(err);
        process.stderr.write(`offline plan failed: ${msg}\n`);
        process.exit(1);
    },
);
