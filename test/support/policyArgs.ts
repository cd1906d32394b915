/**
 * Policy-argument helpers for the policy tests (awsguard style): they build `ResourceValidationArgs` and
 * `StackValidationArgs` the way @pulumi/policy's server does (props behind `unknownCheckingProxy`, `isType`,
 * `asType`, `getConfig` with the schema defaults, `notApplicable`, `stackTags`, `opts`), run one policy and
 * return its violation messages, or "not-applicable" when it said so.
 */
import { unknownCheckingProxy } from "@pulumi/policy";
import type { PolicyResource, ResourceValidation, StackValidationArgs } from "@pulumi/policy";
import { policyConfig } from "../../offline/policyRun";
import type { PackPolicy } from "../../policies/support";

class NotApplicable extends Error {}

export type Outcome = string[] | "not-applicable";

const typeOf = (cls: unknown) => (cls as { __pulumiType?: string })?.__pulumiType;

function common(type: string, policy: PackPolicy, config: Record<string, unknown>, stackTags: Map<string, string>) {
    return {
        stackTags,
        getConfig: <T>() => ({ ...policyConfig(policy, {}), ...config }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
        isType: (cls: unknown) => typeOf(cls) === type,
    };
}

export interface ResourceCase {
    readonly type: string;
    readonly props: Record<string, unknown>;
    readonly name?: string;
    readonly opts?: { ignoreChanges?: string[]; protect?: boolean };
    readonly provider?: { type: string; props: Record<string, unknown> };
    readonly config?: Record<string, unknown>;
    readonly stackTags?: Map<string, string>;
}

/** Runs a resource policy on one resource; returns its messages, or "not-applicable". */
export async function runResource(policy: PackPolicy, c: ResourceCase): Promise<Outcome> {
    if (!("validateResource" in policy) || !policy.validateResource) throw new Error(`${policy.name} is not a resource policy`);
    const urn = `urn:pulumi:test::ops-center-ha::${c.type}::${c.name ?? "subject"}`;
    const props = unknownCheckingProxy(JSON.parse(JSON.stringify(c.props)));
    const base = common(c.type, policy, c.config ?? {}, c.stackTags ?? new Map([["pulumi:project", "ops-center-ha"]]));
    const args = {
        ...base,
        type: c.type,
        props,
        urn,
        name: c.name ?? "subject",
        opts: { protect: c.opts?.protect ?? false, ignoreChanges: c.opts?.ignoreChanges ?? [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        asType: (cls: unknown) => (typeOf(cls) === c.type ? props : undefined),
        ...(c.provider ? { provider: { ...c.provider, urn: `urn:pulumi:test::ops-center-ha::${c.provider.type}::p`, name: "p" } } : {}),
    };
    const messages: string[] = [];
    let applicable = false;
    for (const v of ([] as ResourceValidation[]).concat(policy.validateResource)) {
        try {
            await v(args as never, (m) => messages.push(m ?? ""));
            applicable = true;
        } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
        }
    }
    return applicable ? messages : "not-applicable";
}

export interface StackResource {
    readonly type: string;
    readonly name: string;
    readonly props: Record<string, unknown>;
    readonly opts?: { protect?: boolean };
}

/** Runs a stack policy on a set of resources; returns its messages, or "not-applicable". */
export async function runStack(policy: PackPolicy, resources: readonly StackResource[], opts: { config?: Record<string, unknown>; stackTags?: Map<string, string> } = {}): Promise<Outcome> {
    if (!("validateStack" in policy) || !policy.validateStack) throw new Error(`${policy.name} is not a stack policy`);
    const rs = resources.map((r) => {
        const props = unknownCheckingProxy(JSON.parse(JSON.stringify(r.props)));
        return {
            type: r.type, props, urn: `urn:pulumi:test::ops-center-ha::${r.type}::${r.name}`, name: r.name,
            opts: { protect: r.opts?.protect ?? false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
            dependencies: [], propertyDependencies: {},
            isType: (cls: unknown) => typeOf(cls) === r.type,
            asType: (cls: unknown) => (typeOf(cls) === r.type ? props : undefined),
        } as unknown as PolicyResource;
    });
    const base = common("", policy, opts.config ?? {}, opts.stackTags ?? new Map([["pulumi:project", "ops-center-ha"]]));
    const args: StackValidationArgs = { resources: rs, getConfig: base.getConfig, stackTags: base.stackTags, notApplicable: base.notApplicable } as StackValidationArgs;
    const messages: string[] = [];
    try {
        await policy.validateStack(args, (m) => messages.push(m ?? ""));
    } catch (e) {
        if (e instanceof NotApplicable) return "not-applicable";
        throw e;
    }
    return messages;
}

/** A deep copy of `v` with the dotted `path` set to `value` (undefined deletes it): one changed field. */
export function withField<T>(v: T, path: string, value: unknown): T {
    const copy = JSON.parse(JSON.stringify(v));
    const keys = path.split(".");
    let o = copy;
    for (const k of keys.slice(0, -1)) o = o[k] ??= {}; // numeric segments index arrays
    if (value === undefined) delete o[keys[keys.length - 1]];
    else o[keys[keys.length - 1]] = value;
    return copy;
}
