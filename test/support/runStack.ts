/**
 * Child process of the test harness: runs one stack under the mock engine (fresh process, fresh module
 * cache) and prints the raw plan as JSON, secret values still wrapped in Pulumi's secret marker.
 * argv: <stack> [overrides as JSON] [options as JSON: { strict?, recordState?, priorFile?, impairedZones? }]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { RecordedResource, runOffline } from "../../offline/engine";
import { mockPrimaryOutputs } from "../../offline/primaryFixture";

const [stack, overridesJson, optionsJson] = process.argv.slice(2);
const options: { strict?: boolean; recordState?: boolean; priorFile?: string; impairedZones?: string[] } = optionsJson ? JSON.parse(optionsJson) : {};
const prior = options.priorFile ? (JSON.parse(fs.readFileSync(options.priorFile, "utf8")) as { resources: RecordedResource[] }).resources : undefined;
const root = path.resolve(__dirname, "..", "..");
const wire: Record<string, string | null> = overridesJson ? JSON.parse(overridesJson) : {};
const overrides = Object.fromEntries(Object.entries(wire).map(([k, v]) => [k, v ?? undefined]));
runOffline({ root, stack, overrides, strict: options.strict, recordState: options.recordState, prior, impairedZones: options.impairedZones, stackOutputs: (n) => mockPrimaryOutputs(root, n) }).then(
    (plan) => {
        // Exit only once the (large) JSON is flushed to the pipe.
        process.stdout.write(JSON.stringify(plan), () => process.exit(0));
    },
    (err: unknown) => {
        process.stderr.write(err instanceof Error ? err.message : String(err));
        process.exit(3);
    },
);
