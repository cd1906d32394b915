/**
 * Test harness for the whole program: runs a stack under the mock engine in a child process (so no
 * module cache or Pulumi runtime state is shared between stacks) and returns the registered resources.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { isSecretValue, OfflinePlan, RecordedResource } from "../offline/engine";

export const ROOT = path.resolve(__dirname, "..");
export const STACKS = ["us-east-1", "us-west-2"] as const;

const cache = new Map<string, OfflinePlan>();

/** Thrown when the program rejects its config (or fails) for the stack. */
export class PlanFailed extends Error {}

/** How a planned run differs from the plain offline plan (see runOffline). */
export interface PlanOptions {
    /** Fail on an unset required secret as `pulumi up` would. */
    readonly strict?: boolean;
    /** Record every resource's state. */
    readonly recordState?: boolean;
    /** A JSON file holding an earlier plan (with state): this run is the next update. */
    readonly priorFile?: string;
    /** Zones the mock's DescribeAvailabilityZones reports as impaired (dropped by a `state: available` filter). */
    readonly impairedZones?: readonly string[];
}

/** Runs `stack` with optional config overrides (`key` → value, undefined removes the key). */
/** A child process that plans one stack: under a shared machine's load a plan has taken more than 2 minutes. */
export const PLAN_TIMEOUT_MS = 300_000;

export function planStack(stack: string, overrides: Record<string, string | undefined> = {}, options: PlanOptions = {}): OfflinePlan {
    const key = `${stack} ${JSON.stringify(overrides)} ${JSON.stringify(options)}`;
    const hit = cache.get(key);
    if (hit) return hit;
    // undefined (remove the key) travels as null: JSON has no undefined.
    const wire = JSON.stringify(overrides, (_k, v) => (v === undefined ? null : v));
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test/support/runStack.ts"), stack, wire, JSON.stringify(options)], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        timeout: PLAN_TIMEOUT_MS,
    });
    if (r.status !== 0) throw new PlanFailed(r.stderr || `plan of ${stack} exited ${r.status}`);
    const plan = JSON.parse(r.stdout) as OfflinePlan;
    cache.set(key, plan);
    return plan;
}

/** Resources of `type` (a full type token) in the plan. */
export function ofType(plan: OfflinePlan, type: string): RecordedResource[] {
    return plan.resources.filter((r) => r.type === type);
}

/** The one resource of `type` named `name`; throws when absent. */
export function byName(plan: OfflinePlan, type: string, name: string): RecordedResource {
    const r = plan.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name}; have: ${ofType(plan, type).map((x) => x.name).join(", ")}`);
    return r;
}

/** Unwraps secret markers (for asserting on values), leaving everything else as is. */
export function unwrap(v: unknown): unknown {
    if (isSecretValue(v)) return unwrap(v.value);
    if (Array.isArray(v)) return v.map(unwrap);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    return v;
}

/** Type tokens of a Swarm service and of a Swarm config, as the Docker provider registers them. */
export const SERVICE = "docker:index/service:Service";
export const CONFIG = "docker:index/serviceConfig:ServiceConfig";
/** A registered input object, read loosely (tests assert on its shape). */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The inputs (secrets unwrapped) of the Swarm service named `swarmName`; throws when absent. */
export function service(plan: OfflinePlan, swarmName: string): Json {
    const r = ofType(plan, SERVICE).find((s) => s.inputs.name === swarmName);
    if (!r) throw new Error(`no service ${swarmName}`);
    return unwrap(r.inputs) as Json;
}

/** The text of the Swarm config that `svc` mounts at `fileName`; throws when it mounts none there. */
export function mounted(plan: OfflinePlan, svc: Json, fileName: string): string {
    const m = ((svc.taskSpec.containerSpec.configs ?? []) as Json[]).find((c) => c.fileName === fileName);
    if (!m) throw new Error(`${svc.name} mounts nothing at ${fileName}`);
    const cfg = ofType(plan, CONFIG).find((c) => c.inputs.name === m.configName);
    if (!cfg) throw new Error(`no config ${m.configName}`);
    return Buffer.from(String(cfg.inputs.data), "base64").toString("utf8");
}
