/**
 * Every policy of the pack, by area, and the pack's name and version. Importing this never starts the
 * pack's gRPC server (only `index.ts` does, with `new PolicyPack`): the offline runner and the tests import it.
 */
import { computePolicies } from "./compute";
import { containerPolicies } from "./containers";
import { dnsPolicies } from "./dns";
import { networkPolicies } from "./network";
import { stackPolicies } from "./stack";
import { storagePolicies } from "./storage";
import type { PackPolicy } from "./support";

export const PACK_NAME = "ops-center-ha-policies";
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const PACK_VERSION: string = require("./package.json").version;

export const AREAS: Readonly<Record<string, readonly PackPolicy[]>> = {
    storage: storagePolicies,
    network: networkPolicies,
    compute: computePolicies,
    containers: containerPolicies,
    dns: dnsPolicies,
    stack: stackPolicies,
};

export const ALL_POLICIES: readonly PackPolicy[] = Object.values(AREAS).flat();
