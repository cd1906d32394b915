/**
 * The offline plan: runs the whole program for one stack in this process under Pulumi's mock engine
 * (`pulumi.runtime.setMocks`, preview=false), with the stack's config read from its Pulumi.<stack>.yaml,
 * and records every registered resource. It is not a cloud preview: no provider runs, computed values
 * are invented by `mocks.ts`. Run it at most once per process (the Pulumi runtime is global state).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { OfflineMocks } from "./mocks";

export const PROJECT = "ops-center-ha";
/** The marker Pulumi's RPC layer wraps secret values in. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    /** The id the (mock) provider returned: what other resources' inputs refer to. */
    readonly id?: string;
    /** URN of the resource's explicit or inherited provider (custom resources only). */
    readonly provider?: string;
    /** Resource options a policy or a diff reads (as the engine sends them to a policy pack). */
    readonly opts?: { readonly ignoreChanges?: string[]; readonly protect?: boolean; readonly deleteBeforeReplace?: boolean };
    /** Inputs as the engine received them; secret values are still wrapped in Pulumi's secret marker. */
    readonly inputs: Record<string, unknown>;
}

export interface OfflinePlan {
    readonly project: string;
    readonly stack: string;
    readonly resources: RecordedResource[];
    /** Stack outputs; secret outputs are still wrapped. */
    readonly outputs: Record<string, unknown>;
}

/** A stack file's config: `namespace:key` → text, and the keys whose value is `secure:`. */
export interface StackConfig {
    readonly values: Record<string, string>;
    readonly secretKeys: string[];
}

/** Reads `Pulumi.<stack>.yaml` from `root`; `secure:` values cannot be decrypted offline and get placeholders. */
export function readStackConfig(root: string, stack: string): StackConfig {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const stacks = fs.readdirSync(root).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
        throw new Error(`no stack file ${path.basename(file)}; stacks here: ${stacks.join(", ")}`);
    }
    const doc = parse(fs.readFileSync(file, "utf8")) ?? {};
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [k, v] of Object.entries<unknown>(doc.config ?? {})) {
        const key = k.includes(":") ? k : `${PROJECT}:${k}`;
        if (v !== null && typeof v === "object" && "secure" in (v as object)) {
            values[key] = `offline-placeholder-for-${key.replace(/[^A-Za-z0-9]/g, "-")}`;
            secretKeys.push(key);
        } else {
            values[key] = typeof v === "string" ? v : JSON.stringify(v);
        }
    }
    return { values, secretKeys };
}

/**
 * Runs the program for `stack` under mocks. `overrides` replace config values (used by tests to
 * try bad config and role changes). `stackOutputs` are what a StackReference returns.
 */
export async function runOffline(opts: {
    root: string;
    stack: string;
    overrides?: Record<string, string | undefined>;
    stackOutputs?: (stackName: string) => Record<string, unknown>;
}): Promise<OfflinePlan> {
    const pulumi = await import("@pulumi/pulumi");
    const { values, secretKeys } = readStackConfig(opts.root, opts.stack);
    for (const [k, v] of Object.entries(opts.overrides ?? {})) {
        const key = k.includes(":") ? k : `${PROJECT}:${k}`;
        if (v === undefined) delete values[key];
        else values[key] = v;
    }
    const region = values["aws:region"] ?? "us-east-1";
    const mocks = new OfflineMocks(region, opts.stackOutputs ?? (() => ({})));
    await pulumi.runtime.setMocks(mocks, PROJECT, opts.stack, false);
    pulumi.runtime.setAllConfig(values, secretKeys);

    // Imported only now, after setMocks: the program must not be evaluated before the mock engine exists.
    const { main } = await import("../program");
    const created: { type: string; name: string; resource: import("@pulumi/pulumi").Resource; parent?: import("@pulumi/pulumi").Resource; opts: import("@pulumi/pulumi").ResourceOptions }[] = [];
    let failure: unknown;
    // The program's own outputs (still Outputs, secretness intact): runInPulumiStack returns them resolved to plain values.
    let programOutputs: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
        // A (client-side) stack transformation sees every resource with its parent; the mock engine does not.
        pulumi.runtime.registerStackTransformation((args) => {
            created.push({ type: args.type, name: args.name, resource: args.resource, parent: args.opts.parent, opts: args.opts });
            return undefined;
        });
        try {
            programOutputs = await main();
            return programOutputs;
        } catch (e) {
            failure = e;
            return {};
        }
    });
    await pulumi.runtime.disconnect();
    if (failure) throw failure;

    const stackUrn = await urnOf(pulumi.runtime.getStackResource());
    const resources: RecordedResource[] = [];
    for (const c of created) {
        const rec = mocks.records.get(`${c.type}::${c.name}`);
        const o = c.opts as { ignoreChanges?: string[]; protect?: boolean; deleteBeforeReplace?: boolean };
        const opts = {
            ...(o.ignoreChanges?.length ? { ignoreChanges: [...o.ignoreChanges] } : {}),
            ...(o.protect ? { protect: true } : {}),
            ...(o.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
        };
        // Only custom resources (and providers) have an id; a component has none.
        const id = pulumi.CustomResource.isInstance(c.resource) ? mocks.idOf(`${c.type}::${c.name}`) : undefined;
        // The SDK keeps the provider a custom resource was registered with (explicit or inherited) in `__prov`.
        const prov = (c.resource as unknown as { __prov?: import("@pulumi/pulumi").ProviderResource }).__prov;
        const provider = prov ? await urnOf(prov) : undefined;
        resources.push({
            urn: (await urnOf(c.resource))!,
            type: c.type,
            name: c.name,
            parent: c.parent ? await urnOf(c.parent) : stackUrn,
            ...(id ? { id } : {}),
            ...(provider ? { provider } : {}),
            ...(Object.keys(opts).length ? { opts } : {}),
            inputs: rec?.inputs ?? {},
        });
    }
    resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const outputs = await resolveOutputs(programOutputs);
    return { project: PROJECT, stack: opts.stack, resources, outputs };
}

async function urnOf(r: import("@pulumi/pulumi").Resource | undefined): Promise<string | undefined> {
    if (!r) return undefined;
    return new Promise((resolve) => r.urn.apply((u) => resolve(u)));
}

async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
    const pulumi = await import("@pulumi/pulumi");
    const result: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outputs)) {
        if (pulumi.Output.isInstance(v)) {
            const secret = await pulumi.isSecret(v);
            const value = await new Promise<unknown>((resolve) => v.apply((x) => resolve(x)));
            result[k] = secret ? { [SECRET_SIG_KEY]: SECRET_SIG, value } : value;
        } else {
            result[k] = v;
        }
    }
    return result;
}

/** True when `v` is a value wrapped in Pulumi's secret marker. */
export function isSecretValue(v: unknown): v is { value: unknown } {
    return v !== null && typeof v === "object" && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** A deep copy with every secret value replaced by `"[secret]"`. */
export function redactSecrets(v: unknown): unknown {
    if (isSecretValue(v)) return "[secret]";
    if (Array.isArray(v)) return v.map(redactSecrets);
    if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactSecrets(x)]));
    }
    return v;
}

/** The JSON form printed by `npm run plan -- <stack> --json`: stable, sorted, secrets redacted. */
export function planJson(plan: OfflinePlan): string {
    return JSON.stringify(
        {
            project: plan.project,
            stack: plan.stack,
            resources: plan.resources.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: r.parent ?? null,
                ...(r.id ? { id: r.id } : {}),
                ...(r.provider ? { provider: r.provider } : {}),
                ...(r.opts ? { opts: r.opts } : {}),
                inputs: sortKeys(redactSecrets(r.inputs)),
            })),
            outputs: sortKeys(redactSecrets(plan.outputs)),
        },
        null,
        2,
    );
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    }
    return v;
}
