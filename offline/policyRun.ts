/**
 * Runs the policy pack in this process against a plan, building each policy's arguments the way the policy
 * runtime does (@pulumi/policy 1.21 `server.ts`: makeAnalyzeRpcFun / makeAnalyzeStackRpcFun):
 * - per resource (Analyze): props are the inputs, secrets unwrapped (`deserializeProperties(.., false)`),
 *   wrapped in `unknownCheckingProxy`; `isType`/`asType` by type token; `getConfig`; `notApplicable`; `stackTags`;
 *   a validation function carrying `__pulumiType` is skipped as not applicable for other types (the fast path);
 * - per stack (AnalyzeStack): every resource with its props (the engine sends outputs; offline we send the inputs
 *   plus the id the mock provider returned), parent and provider objects;
 * - enforcement: per-policy config, else the `all` override, else the policy's level, else the pack's
 *   (Pulumi docs, "Configuring policy packs"); `remediate` reports as mandatory, `disabled` skips;
 * - config: the policy's schema defaults with the configured values over them (the CLI applies the defaults);
 * - an `UnknownValueError` is reported as "could not be evaluated" (the runtime: "can't run policy ... during
 *   preview"), never as a pass.
 */
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import type { EnforcementLevel, PolicyResource, ReportViolation, ResourceValidation } from "@pulumi/policy";
import type { PackPolicy } from "../policies/support";
import { ExemptViolation, Exemption, withExemptions } from "../policies/exemptions";
import { isSecretValue } from "./engine";

/** A plan as `npm run plan -- --json` prints it (or the raw in-process plan). */
export interface PlanLike {
    readonly project: string;
    readonly stack: string;
    readonly resources: readonly {
        urn: string;
        type: string;
        name: string;
        parent?: string | null;
        id?: string;
        provider?: string;
        opts?: { ignoreChanges?: string[]; protect?: boolean; deleteBeforeReplace?: boolean; retainOnDelete?: boolean; dependsOn?: string[] };
        inputs: Record<string, unknown>;
    }[];
}

/** Pack config as in a `--policy-pack-config` file: `all` and per-policy `{ enforcementLevel, ...props }`. */
export type PackConfig = Record<string, EnforcementLevel | { enforcementLevel?: EnforcementLevel; [k: string]: unknown }>;

export interface Finding {
    readonly policy: string;
    /** mandatory | advisory, or "not-evaluated" when a value the policy needed is unknown. */
    readonly level: "mandatory" | "advisory" | "not-evaluated";
    readonly urn?: string;
    readonly message: string;
    readonly severity?: string;
    readonly remediation?: string;
    /** The policy's enforcement level (for a not-evaluated finding: whether it would have blocked). */
    readonly policyLevel: "mandatory" | "advisory";
}

export interface PolicyReport {
    readonly pack: string;
    readonly version: string;
    readonly stack: string;
    readonly findings: Finding[];
    readonly exempt: ExemptViolation[];
    /** Exemptions that matched nothing in this plan. */
    readonly unusedExemptions: Exemption[];
    /** policy name -> reasons it was not applicable (stack policies only; per-resource ones are too many). */
    readonly notApplicable: Record<string, string[]>;
    /** Policies that ran (not disabled). */
    readonly evaluated: number;
}

class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "Policy does not apply");
    }
}
const throwNotApplicable = (reason?: string): never => {
    throw new NotApplicableError(reason);
};

/** Secrets unwrapped to their values, as the runtime's `deserializeProperties(props, false)` does. */
function deserialize(v: unknown): unknown {
    if (isSecretValue(v)) return deserialize(v.value);
    if (Array.isArray(v)) return v.map(deserialize);
    if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, deserialize(x)]));
    }
    return v;
}

function typeOf(cls: unknown): string | undefined {
    const t = (cls as { __pulumiType?: unknown })?.__pulumiType;
    return typeof t === "string" && t.length > 0 ? t : undefined;
}

function isTypeOf(type: string, cls: unknown): boolean {
    const t = typeOf(cls);
    if (t) return type === t;
    const isInstance = (cls as { isInstance?: (o: unknown) => boolean })?.isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** Config of one policy: schema defaults, then the configured properties (without enforcementLevel). */
export function policyConfig(p: PackPolicy, config: PackConfig): Record<string, unknown> {
    const defaults = Object.fromEntries(Object.entries(p.configSchema?.properties ?? {}).filter(([, s]) => s.default !== undefined).map(([k, s]) => [k, s.default]));
    const c = config[p.name];
    const given = typeof c === "object" && c !== null ? Object.fromEntries(Object.entries(c).filter(([k]) => k !== "enforcementLevel")) : {};
    for (const req of p.configSchema?.required ?? []) {
        if (given[req] === undefined && defaults[req] === undefined) throw new Error(`policy ${p.name}: required config ${req} is not set`);
    }
    return { ...defaults, ...given };
}

/** The enforcement level of one policy under `config`. */
export function levelOf(p: PackPolicy, config: PackConfig, packLevel: EnforcementLevel): EnforcementLevel {
    const own = config[p.name];
    const ownLevel = typeof own === "string" ? own : own?.enforcementLevel;
    const all = config.all;
    const allLevel = typeof all === "string" ? all : all?.enforcementLevel;
    return ownLevel ?? allLevel ?? p.enforcementLevel ?? packLevel;
}

export interface RunOptions {
    readonly pack: string;
    readonly version: string;
    readonly policies: readonly PackPolicy[];
    readonly config?: PackConfig;
    readonly packLevel?: EnforcementLevel;
    readonly stackTags?: ReadonlyMap<string, string>;
    readonly exemptions?: readonly Exemption[];
}

/** Evaluates the pack against `plan`: the in-process equivalent of `pulumi preview --policy-pack`. */
export async function evaluatePolicies(plan: PlanLike, o: RunOptions): Promise<PolicyReport> {
    const config = o.config ?? {};
    const stackTags: ReadonlyMap<string, string> = new Map(o.stackTags ?? [["pulumi:project", plan.project]]);
    const exempt: ExemptViolation[] = [];
    const policies = withExemptions(o.policies, o.exemptions ?? [], (v) => exempt.push(v));
    const findings: Finding[] = [];
    const notApplicable: Record<string, string[]> = {};
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    let evaluated = 0;

    const optsOf = (r: PlanLike["resources"][number]) => ({
        protect: r.opts?.protect ?? false,
        ignoreChanges: r.opts?.ignoreChanges ?? [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.opts?.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: r.opts.deleteBeforeReplace } : {}),
        ...(r.parent ? { parent: r.parent } : {}),
    });
    const providerOf = (r: PlanLike["resources"][number]) => {
        const prov = r.provider ? byUrn.get(r.provider) : undefined;
        return prov ? { type: prov.type, props: unknownCheckingProxy(deserialize(prov.inputs) as Record<string, unknown>), urn: prov.urn, name: prov.name } : undefined;
    };

    for (const [i, raw] of o.policies.entries()) {
        const p = policies[i];
        let level = levelOf(raw, config, o.packLevel ?? "advisory");
        if (level === "disabled") continue;
        if (level === "remediate") level = "mandatory";
        evaluated++;
        const cfg = policyConfig(raw, config);
        const meta = { severity: raw.severity, remediation: raw.remediationSteps, policyLevel: level as "mandatory" | "advisory" };
        const reportFor = (defaultUrn?: string): ReportViolation => (message, urn) =>
            findings.push({ policy: p.name, level: level as "mandatory" | "advisory", urn: urn ?? defaultUrn, message: message ? `${raw.description}\n${message}` : raw.description, ...meta });
        const onError = (e: unknown, urn?: string) => {
            if (e instanceof UnknownValueError) {
                findings.push({ policy: p.name, level: "not-evaluated", urn, message: `can't run policy '${p.name}' from policy pack '${o.pack}@v${o.version}' during preview: ${(e as Error).message}`, ...meta });
            } else if (e instanceof NotApplicableError) {
                if (!urn) (notApplicable[p.name] ??= []).push(e.reason ?? "Policy does not apply");
            } else {
                throw new Error(`Error validating ${urn ?? "stack"} with policy '${p.name}' from policy pack '${o.pack}@v${o.version}': ${e instanceof Error ? e.message : String(e)}`);
            }
        };

        if ("validateStack" in p && p.validateStack) {
            const t = typeOf(p.validateStack);
            if (t && !plan.resources.some((r) => r.type === t)) {
                (notApplicable[p.name] ??= []).push(`Policy only applies to resources of type '${t}'`);
                continue;
            }
            const resources: PolicyResource[] = plan.resources.map((r) => {
                const props = unknownCheckingProxy({ ...(deserialize(r.inputs) as Record<string, unknown>), ...(r.id ? { id: r.id } : {}) });
                const provider = providerOf(r);
                return {
                    type: r.type, props, urn: r.urn, name: r.name, opts: optsOf(r), dependencies: [], propertyDependencies: {},
                    isType: (cls: unknown) => isTypeOf(r.type, cls),
                    asType: (cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined),
                    ...(provider ? { provider } : {}),
                } as unknown as PolicyResource;
            });
            const index = new Map(resources.map((r) => [r.urn, r]));
            for (const r of resources) {
                const parentUrn = byUrn.get(r.urn)?.parent;
                const parent = parentUrn ? index.get(parentUrn) : undefined;
                if (parent) (r as { parent?: PolicyResource }).parent = parent;
            }
            try {
                await p.validateStack({ resources, getConfig: <T>() => cfg as T, stackTags, notApplicable: throwNotApplicable } as never, reportFor());
            } catch (e) {
                onError(e);
            }
            continue;
        }

        const validations = ([] as ResourceValidation[]).concat(("validateResource" in p && p.validateResource) || []);
        for (const r of plan.resources) {
            const validationsForType = validations.filter((v) => !(validations.length === 1 && typeOf(v) && typeOf(v) !== r.type));
            for (const v of validationsForType) {
                const props = unknownCheckingProxy(deserialize(r.inputs) as Record<string, unknown>);
                const provider = providerOf(r);
                const args = {
                    type: r.type, props, urn: r.urn, name: r.name, opts: optsOf(r), stackTags,
                    isType: (cls: unknown) => isTypeOf(r.type, cls),
                    asType: (cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined),
                    getConfig: <T>() => cfg as T,
                    notApplicable: throwNotApplicable,
                    ...(provider ? { provider } : {}),
                };
                try {
                    await v(args as never, reportFor(r.urn));
                } catch (e) {
                    onError(e, r.urn);
                }
            }
        }
    }
    const used = new Set(exempt.map((e) => `${e.policy} ${e.urn}`));
    const unusedExemptions = (o.exemptions ?? []).filter((e) => ![...used].some((u) => u.startsWith(`${e.policy} `) && u.endsWith(`::${e.resource.split("::").pop()}`)));
    return { pack: o.pack, version: o.version, stack: plan.stack, findings, exempt, unusedExemptions, notApplicable, evaluated };
}

/** True when any finding blocks a deployment (a mandatory violation, or a mandatory policy that could not run). */
export function blocks(r: PolicyReport): boolean {
    return r.findings.some((f) => f.policyLevel === "mandatory");
}
