/**
 * The offline plan: runs the whole program for one stack in this process under Pulumi's mock engine
 * (`pulumi.runtime.setMocks`, preview=false), with the stack's config read from its Pulumi.<stack>.yaml,
 * and records every registered resource. It is not a cloud preview: no provider runs, computed values
 * are invented by `mocks.ts`. Run it at most once per process (the Pulumi runtime is global state).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_KEYS, CONFIG_NAMESPACE } from "../config/keys";
import { OfflineMocks, PriorResource } from "./mocks";
import { offlineStandbyCredentials } from "../config/standbyCredentials";
import { fullKey, mergeProjectConfig, readProjectConfig, readStackConfigFile, securePlaceholder } from "./projectConfig";

export const PROJECT = "ops-center-ha";
/** The marker Pulumi's RPC layer wraps secret values in. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    /** URN of the resource's explicit or inherited provider (custom resources only). */
    readonly provider?: string;
    /** Inputs as the engine received them; secret values are still wrapped in Pulumi's secret marker. */
    readonly inputs: Record<string, unknown>;
    /** The id the mock engine gave it (custom resources only). */
    readonly id?: string;
    /** Resource options that change how the engine diffs, replaces or deletes it (what a policy pack or a diff reads), where set. */
    readonly opts?: RecordedOptions;
    /** The state the mock provider stored (only with `recordState`): what the next update diffs against. */
    readonly state?: Record<string, unknown>;
}

/** The resource options a plan records: the ones that decide whether an update diffs, replaces or is ignored. */
export interface RecordedOptions {
    readonly ignoreChanges?: string[];
    readonly replaceOnChanges?: string[];
    readonly deleteBeforeReplace?: boolean;
    readonly protect?: boolean;
    readonly retainOnDelete?: boolean;
    /** URNs of the explicit `dependsOn` resources (the engine orders creates, updates and deletes by them). */
    readonly dependsOn?: string[];
}

export interface OfflinePlan {
    readonly project: string;
    readonly stack: string;
    readonly resources: RecordedResource[];
    /** Stack outputs; secret outputs are still wrapped. */
    readonly outputs: Record<string, unknown>;
    /** Required secrets the stack file does not set, for which the plan used an offline stand-in. */
    readonly standIns?: readonly string[];
}

/** The config the engine hands the program for one stack: `namespace:key` → text, and the secret keys. */
export interface StackConfig {
    readonly values: Record<string, string>;
    readonly secretKeys: string[];
    /** Required secrets the stack does not set, given an offline stand-in (empty when `strict`). */
    readonly standIns: string[];
}

/** Options of {@link readStackConfig}. */
export interface StackConfigOptions {
    /** Config changes as `pulumi config set`/`rm` would make them (`key` → value, undefined removes the key). */
    readonly overrides?: Record<string, string | undefined>;
    /**
     * Fail as `pulumi up` would when a required secret is not set. Otherwise (the default) such a secret gets an
     * offline stand-in, listed in `standIns`: a fresh clone has no secrets, and the offline plan must still run.
     */
    readonly strict?: boolean;
}

/**
 * The config the engine would hand the program for `stack`: `Pulumi.<stack>.yaml` merged with `Pulumi.yaml`'s
 * `config:` schema by the engine's own rules (offline/projectConfig.ts: defaults applied, missing required keys,
 * declared types, namespaced keys, `secure:` values), failing with the engine's message where it would fail.
 * `secure:` values cannot be decrypted offline and get placeholders.
 */
export function readStackConfig(root: string, stack: string, opts: StackConfigOptions = {}): StackConfig {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const stacks = fs.readdirSync(root).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
        throw new Error(`no stack file ${path.basename(file)}; stacks here: ${stacks.join(", ")}`);
    }
    const project = readProjectConfig(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    const stackFile = readStackConfigFile(fs.readFileSync(file, "utf8"));
    const config = new Map(stackFile.config);
    const secretSets: [string, string][] = [];
    for (const [k, v] of Object.entries(opts.overrides ?? {})) {
        const key = fullKey(project.name, k);
        if (v === undefined) config.delete(key);
        // A secret is set as `pulumi config set --secret` would: secure, so it joins the values after the merge.
        else if (SECRET_KEYS.has(key)) secretSets.push([key, v]);
        else config.set(key, { text: v, secure: false, object: false });
    }
    const merged = mergeProjectConfig(stack, project, { ...stackFile, config });
    const values = { ...merged.values };
    const secretKeys = new Set(merged.secretKeys);
    for (const [key, v] of secretSets) {
        values[key] = v;
        secretKeys.add(key);
    }
    const standIns: string[] = [];
    if (!opts.strict) {
        // A region built as a standby (primaryStack set) needs standbyCredentials: a well-formed stand-in.
        const builtAsStandby = Boolean(values[`${CONFIG_NAMESPACE}:primaryStack`]);
        for (const spec of CONFIG_KEYS.filter((c) => c.secret && (!c.optional || (c.key === "standbyCredentials" && builtAsStandby)))) {
            const key = `${CONFIG_NAMESPACE}:${spec.key}`;
            if (values[key]) continue;
            values[key] = spec.key === "standbyCredentials" ? offlineStandbyCredentials() : securePlaceholder(key);
            secretKeys.add(key);
            standIns.push(key);
        }
    }
    return { values, secretKeys: [...secretKeys].sort(), standIns };
}

const SECRET_KEYS = new Set(CONFIG_KEYS.filter((c) => c.secret).map((c) => `${CONFIG_NAMESPACE}:${c.key}`));

/**
 * Runs the program for `stack` under mocks. `overrides` replace config values (used by tests to
 * try bad config and role changes). `stackOutputs` are what a StackReference returns.
 */
export async function runOffline(opts: {
    root: string;
    stack: string;
    overrides?: Record<string, string | undefined>;
    stackOutputs?: (stackName: string) => Record<string, unknown>;
    /** Fail as `pulumi up` would on an unset required secret, instead of standing in for it (see readStackConfig). */
    strict?: boolean;
    /** Record each resource's state, for a later run's `prior`. */
    recordState?: boolean;
    /** An earlier run's resources (with state): this run is the next update, fed that run's ids and outputs. */
    prior?: readonly RecordedResource[];
    /** Zones the mock AWS reports as impaired (tests: a zone in trouble must not move anything). */
    impairedZones?: readonly string[];
}): Promise<OfflinePlan> {
    const pulumi = await import("@pulumi/pulumi");
    const { values, secretKeys, standIns } = readStackConfig(opts.root, opts.stack, { overrides: opts.overrides, strict: opts.strict });
    const region = values["aws:region"] ?? "us-east-1";
    const prior = opts.prior && new Map<string, PriorResource>(opts.prior.filter((r) => r.id && r.state).map((r) => [`${r.type}::${r.name}`, { id: r.id!, state: r.state! }]));
    const mocks = new OfflineMocks(region, opts.stackOutputs ?? (() => ({})), prior, opts.impairedZones);
    await pulumi.runtime.setMocks(mocks, PROJECT, opts.stack, false);
    pulumi.runtime.setAllConfig(values, secretKeys);

    // Imported only now, after setMocks: the program must not be evaluated before the mock engine exists.
    const { main } = await import("../program");
    const created: {
        type: string;
        name: string;
        resource: import("@pulumi/pulumi").Resource;
        parent?: import("@pulumi/pulumi").Resource;
        options?: RecordedOptions;
        dependsOn?: import("@pulumi/pulumi").Input<import("@pulumi/pulumi").Input<import("@pulumi/pulumi").Resource>[]> | import("@pulumi/pulumi").Input<import("@pulumi/pulumi").Resource>;
    }[] = [];
    let failure: unknown;
    // The program's own outputs (still Outputs, secretness intact): runInPulumiStack returns them resolved to plain values.
    let programOutputs: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
        // A (client-side) stack transformation sees every resource with its parent; the mock engine does not.
        pulumi.runtime.registerStackTransformation((args) => {
            created.push({ type: args.type, name: args.name, resource: args.resource, parent: args.opts.parent, options: recordedOptions(args.opts), dependsOn: args.opts.dependsOn });
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
        const id = mocks.idOf(c.type, c.name);
        // The SDK keeps the provider a custom resource was registered with (explicit or inherited) in `__prov`.
        const prov = (c.resource as unknown as { __prov?: import("@pulumi/pulumi").ProviderResource }).__prov;
        const provider = prov ? await urnOf(prov) : undefined;
        const deps = await dependsOnUrns(c.dependsOn);
        const options = deps.length ? { ...c.options, dependsOn: deps } : c.options;
        resources.push({
            urn: (await urnOf(c.resource))!,
            type: c.type,
            name: c.name,
            parent: c.parent ? await urnOf(c.parent) : stackUrn,
            inputs: rec?.inputs ?? {},
            ...(id ? { id } : {}),
            ...(provider ? { provider } : {}),
            ...(options ? { opts: options } : {}),
            ...(opts.recordState && rec ? { state: rec.state } : {}),
        });
    }
    resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const outputs = await resolveOutputs(programOutputs);
    return { project: PROJECT, stack: opts.stack, resources, outputs, standIns };
}

/** The options worth recording, or undefined when none is set. */
function recordedOptions(o: import("@pulumi/pulumi").CustomResourceOptions): RecordedOptions | undefined {
    const r: { -readonly [K in keyof RecordedOptions]: RecordedOptions[K] } = {};
    if (o.ignoreChanges?.length) r.ignoreChanges = [...o.ignoreChanges];
    if (o.replaceOnChanges?.length) r.replaceOnChanges = [...o.replaceOnChanges];
    if (o.deleteBeforeReplace !== undefined) r.deleteBeforeReplace = o.deleteBeforeReplace;
    if (o.protect !== undefined) r.protect = o.protect;
    if (o.retainOnDelete !== undefined) r.retainOnDelete = o.retainOnDelete;
    return Object.keys(r).length ? r : undefined;
}

/** The URNs of a `dependsOn` option (a resource, a list, or Inputs of them), sorted. */
async function dependsOnUrns(d: unknown): Promise<string[]> {
    if (d === undefined || d === null) return [];
    const pulumi = await import("@pulumi/pulumi");
    const out = pulumi.output(d as import("@pulumi/pulumi").Input<string>) as unknown as import("@pulumi/pulumi").Output<unknown>;
    const list = await new Promise<unknown>((resolve) => out.apply((v: unknown) => resolve(v)));
    const items = (Array.isArray(list) ? list : [list]) as import("@pulumi/pulumi").Resource[];
    const urns = await Promise.all(items.filter((r) => r && pulumi.Resource.isInstance(r)).map((r) => urnOf(r)));
    return urns.filter((u): u is string => !!u).sort();
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
