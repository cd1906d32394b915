/**
 * The program, as a function: `index.ts` runs it under the Pulumi CLI, and `offline/engine.ts` runs it
 * under the mock engine for the offline plan and the tests. Config is read and validated first, so
 * bad config fails before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { Region } from "./components/region";

export async function main(): Promise<Record<string, pulumi.Output<unknown> | unknown>> {
    const { cfg, secrets } = loadConfig();
    const region = new Region("ops", { cfg, secrets });
    return region.stackOutputs();
}
