/**
 * The offline plan diff (pure: two plans in, changes out): created, deleted, updated (which inputs) and
 * replaced (an input the provider replaces on, per replaceOnChange.ts), by URN. Stateful resources that would
 * be replaced or deleted are flagged. Inputs listed in a resource's `ignoreChanges` are not diffs (the engine
 * ignores them). Values are never printed for secrets: plans carry them as "[secret]", and any value of a
 * secret-looking key is masked too.
 */
import { isStateful, STATEFUL_IMAGES } from "../policies/support";
import type { PlanLike } from "./policyRun";
import { replacingPaths } from "./replaceOnChange";

export type ChangeKind = "create" | "delete" | "update" | "replace";

export interface PropertyChange {
    readonly path: string;
    readonly before?: unknown;
    readonly after?: unknown;
}

export interface Change {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly kind: ChangeKind;
    readonly properties: PropertyChange[];
    /** Changed inputs that force the replacement. */
    readonly replaceBecause: string[];
    readonly stateful: boolean;
    /** Stateful and replaced or deleted: data at risk. */
    readonly flagged: boolean;
}

export interface PlanDiff {
    readonly stack: string;
    readonly changes: Change[];
    readonly unchanged: number;
    /**
     * Why this plan must not be applied: more than one Swarm manager or data host replaced in one update, or a
     * protected resource replaced or deleted (the engine would stop on it). Empty when it may go.
     */
    readonly refused: string[];
}

/** At most this many Swarm managers, and this many data hosts, are replaced by one update. */
export const MAX_REPLACED_PER_UPDATE = { managers: 1, dataHosts: 1 } as const;

/**
 * The refusals of a set of changes. The engine refuses to replace a resource protected in both the old state and the
 * program (pulumi/pulumi pkg/resource/deploy/step_generator.go: `new.Protect && old.Protect`) and to delete one
 * protected in the old state (DeleteStep.Apply: `old.Protect`).
 */
export function refusals(changes: readonly Change[], before: ReadonlyMap<string, Res>, after: ReadonlyMap<string, Res>): string[] {
    const out: string[] = [];
    const replaced = changes.filter((c) => c.kind === "replace" && c.type === "aws:ec2/instance:Instance");
    const tagsOf = (c: Change) => ((after.get(c.urn) ?? before.get(c.urn))?.inputs.tags ?? {}) as Record<string, string>;
    const managers = replaced.filter((c) => tagsOf(c).swarm === "manager").map((c) => c.name);
    const data = replaced.filter((c) => tagsOf(c).role === "data").map((c) => c.name);
    if (managers.length > MAX_REPLACED_PER_UPDATE.managers) {
        out.push(`replaces ${managers.length} Swarm managers in one update (${managers.join(", ")}): at most ${MAX_REPLACED_PER_UPDATE.managers} (README "Replacing a host")`);
    }
    if (data.length > MAX_REPLACED_PER_UPDATE.dataHosts) {
        out.push(`replaces ${data.length} data hosts in one update (${data.join(", ")}): at most ${MAX_REPLACED_PER_UPDATE.dataHosts} (README "Replacing a host")`);
    }
    for (const c of changes) {
        const old = before.get(c.urn);
        if (c.kind === "replace" && old?.opts?.protect === true && after.get(c.urn)?.opts?.protect === true) {
            out.push(`${c.name} (${c.type}) is protected and would be replaced: the engine stops the update (${c.type === "aws:ec2/instance:Instance" ? "name it in rollHost" : "README \"Tearing down\""})`);
        }
        if (c.kind === "delete" && old?.opts?.protect === true) {
            out.push(`${c.name} (${c.type}) is protected and would be deleted: the engine stops the update (README "Tearing down")`);
        }
    }
    return out;
}

type Res = PlanLike["resources"][number];

const STATEFUL_TYPES = new Set(["aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume", "docker:index/volume:Volume"]);

/** True when losing this resource loses data: buckets, KMS keys, hosts, volumes, Patroni/etcd/Redis and other volume-backed services. */
export function isStatefulResource(r: Res): boolean {
    if (STATEFUL_TYPES.has(r.type)) return true;
    return r.type === "docker:index/service:Service" && isStateful(r.inputs, STATEFUL_IMAGES);
}

/** Docker's label lists are sets of { label, value } (TypeSet in the provider): compare them by label. */
function keyed(v: unknown): unknown {
    if (Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === "object" && typeof (x as { label?: unknown }).label === "string")) {
        return Object.fromEntries(v.map((x) => [(x as { label: string }).label, (x as { value?: unknown }).value]));
    }
    return v;
}

/** Dotted paths of every leaf that differs between `a` and `b`. */
export function changedPaths(a0: unknown, b0: unknown, prefix = ""): PropertyChange[] {
    const a = keyed(a0);
    const b = keyed(b0);
    if (JSON.stringify(a) === JSON.stringify(b)) return [];
    const bothObjects = a !== null && b !== null && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b);
    if (!bothObjects || prefix.split(".").length > 6) return [{ path: prefix || "(root)", before: a, after: b }];
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    return keys.flatMap((k) => {
        const path = Array.isArray(a) ? `${prefix}[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? (prefix ? `${prefix}.${k}` : k) : `${prefix}[${JSON.stringify(k)}]`;
        return changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path);
    });
}

function ignored(path: string, ignoreChanges: readonly string[]): boolean {
    return ignoreChanges.some((i) => path === i || path.startsWith(`${i}.`) || path.startsWith(`${i}[`));
}

/** The diff from `base` to `head` (both plans of one stack). */
export function diffPlans(base: PlanLike, head: PlanLike): PlanDiff {
    const before = new Map(base.resources.map((r) => [r.urn, r]));
    const after = new Map(head.resources.map((r) => [r.urn, r]));
    const changes: Change[] = [];
    let unchanged = 0;
    for (const r of head.resources) {
        const old = before.get(r.urn);
        if (!old) {
            const stateful = isStatefulResource(r);
            changes.push({ urn: r.urn, type: r.type, name: r.name, kind: "create", properties: [], replaceBecause: [], stateful, flagged: false });
            continue;
        }
        const props = changedPaths(old.inputs, r.inputs).filter((p) => !ignored(p.path, r.opts?.ignoreChanges ?? []));
        if (props.length === 0) {
            unchanged++;
            continue;
        }
        const because = replacingPaths(r.type, props.map((p) => p.path), r.inputs);
        const stateful = isStatefulResource(r) || isStatefulResource(old);
        const kind: ChangeKind = because.length ? "replace" : "update";
        changes.push({ urn: r.urn, type: r.type, name: r.name, kind, properties: props, replaceBecause: because, stateful, flagged: stateful && kind === "replace" });
    }
    for (const r of base.resources) {
        if (after.has(r.urn)) continue;
        const stateful = isStatefulResource(r);
        changes.push({ urn: r.urn, type: r.type, name: r.name, kind: "delete", properties: [], replaceBecause: [], stateful, flagged: stateful });
    }
    const order: Record<ChangeKind, number> = { delete: 0, replace: 1, update: 2, create: 3 };
    changes.sort((x, y) => Number(y.flagged) - Number(x.flagged) || order[x.kind] - order[y.kind] || x.urn.localeCompare(y.urn));
    return { stack: head.stack, changes, unchanged, refused: refusals(changes, before, after) };
}

const SECRET_KEY = /(password|passwd|secret|token|private_?key|auth_?pass|credential)/i;

/** A short, secret-safe rendering of one value. */
export function showValue(path: string, v: unknown): string {
    if (v === undefined) return "(unset)";
    if (v === "[secret]") return "[secret]";
    const leaf = path.split(/[.[\]]/).filter(Boolean).pop() ?? "";
    if (SECRET_KEY.test(leaf) && !/_FILE$/i.test(leaf) && typeof v === "string" && !v.startsWith("/run/secrets/")) return "[secret]";
    const text = typeof v === "string" ? v : JSON.stringify(v);
    if (text.length <= 120 && !text.includes("\n")) return JSON.stringify(v);
    let h = 0;
    for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return `(${text.length} chars, #${h.toString(16).padStart(8, "0")})`;
}

export function counts(d: PlanDiff): Record<ChangeKind | "flagged", number> {
    const c = { create: 0, update: 0, replace: 0, delete: 0, flagged: 0 };
    for (const x of d.changes) {
        c[x.kind]++;
        if (x.flagged) c.flagged++;
    }
    return c;
}

const SYMBOL: Record<ChangeKind, string> = { create: "+", delete: "-", update: "~", replace: "+-" };

/** One change as text lines (no colour). */
export function changeLines(c: Change): string[] {
    const why = c.kind === "replace" ? ` (replaces: ${c.replaceBecause.join(", ")})` : "";
    const lines = [`${SYMBOL[c.kind]} ${c.kind} ${c.type} ${c.name}${why}${c.flagged ? "  [STATEFUL]" : ""}`];
    for (const p of c.properties) lines.push(`    ${p.path}: ${showValue(p.path, p.before)} => ${showValue(p.path, p.after)}`);
    return lines;
}

/** The diff as terminal text; flagged changes first, in red when `color`. */
export function formatDiff(d: PlanDiff, color = false): string {
    const c = counts(d);
    const red = (s: string) => (color ? `\x1b[31;1m${s}\x1b[0m` : s);
    const out = [`Stack ${d.stack}: +${c.create} to create, ~${c.update} to update, +-${c.replace} to replace, -${c.delete} to delete, ${d.unchanged} unchanged`];
    for (const r of d.refused ?? []) out.push(red(`REFUSED: ${r}`));
    const flagged = d.changes.filter((x) => x.flagged);
    if (flagged.length) {
        out.push(red(`${flagged.length} STATEFUL resource(s) would be replaced or deleted:`));
        for (const x of flagged) out.push(...changeLines(x).map(red));
    }
    for (const x of d.changes.filter((y) => !y.flagged)) out.push(...changeLines(x));
    return out.join("\n") + "\n";
}
