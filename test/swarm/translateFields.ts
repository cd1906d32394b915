/**
 * Input readers shared by the Swarm translation (translate.ts, translateService.ts): each refuses what it does not
 * expect, naming the field, so that nothing the plan registers is silently dropped.
 */
import { Buffer } from "node:buffer";
import { isSecretValue } from "../../offline/engine";

/** A JSON object as the Engine API takes it (PascalCase keys, Go's encoding/json field names). */
export type Json = { [k: string]: unknown };

/** An input field the translation does not know. */
export class UnknownField extends Error {}

/** Deep copy with Pulumi's secret markers removed (the mock engine's generated values become plain). */
export function unwrapSecrets(v: unknown): unknown {
    if (isSecretValue(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/** Reads an input object, refusing any key not in `known`; undefined/null values count as absent. */
export function fields(path: string, v: unknown, known: readonly string[]): Record<string, unknown> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new UnknownField(`${path}: expected an object, got ${JSON.stringify(v)}`);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
        if (x === undefined || x === null) continue;
        if (!known.includes(k)) throw new UnknownField(`unknown input field ${path}.${k}: the Swarm translation (test/swarm/translate.ts) maps only ${known.join(", ")}`);
        out[k] = x;
    }
    return out;
}

export function list(path: string, v: unknown): unknown[] {
    if (!Array.isArray(v)) throw new UnknownField(`${path}: expected a list, got ${JSON.stringify(v)}`);
    return v;
}
export const str = (path: string, v: unknown): string => {
    if (typeof v !== "string") throw new UnknownField(`${path}: expected a string, got ${JSON.stringify(v)}`);
    return v;
};
export const num = (path: string, v: unknown): number => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new UnknownField(`${path}: expected a number, got ${JSON.stringify(v)}`);
    return v;
};
export const bool = (path: string, v: unknown): boolean => {
    if (typeof v !== "boolean") throw new UnknownField(`${path}: expected a boolean, got ${JSON.stringify(v)}`);
    return v;
};
export const strings = (path: string, v: unknown): string[] => list(path, v).map((x, i) => str(`${path}[${i}]`, x));

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
/** Go's time.ParseDuration ("10s", "1m30s", "100ms") as nanoseconds. The provider ignores a parse error (0); we throw. */
export function goDurationNs(path: string, v: unknown): number {
    const text = str(path, v);
    if (text === "0") return 0;
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
    let total = 0;
    let m: RegExpExecArray | null;
    let end = 0;
    while ((m = re.exec(text)) !== null) {
        total += Number(m[1]) * UNIT_NS[m[2]];
        end = re.lastIndex;
    }
    if (end !== text.length || end === 0) throw new UnknownField(`${path}: ${JSON.stringify(text)} is not a Go duration (such as 10s, 1m30s, 100ms)`);
    return Math.round(total);
}

/** labelSetToMap (label.go): [{label, value}] -> {label: value}. */
export function labelMap(path: string, v: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    list(path, v).forEach((x, i) => {
        const f = fields(`${path}[${i}]`, x, ["label", "value"]);
        out[str(`${path}[${i}].label`, f.label)] = str(`${path}[${i}].value`, f.value);
    });
    return out;
}

/** validateStringIsBase64Encoded + base64.StdEncoding.DecodeString; the API takes the bytes base64 again. */
export function base64Data(path: string, v: unknown): string {
    const text = str(path, v);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new UnknownField(`${path}: not standard base64 (the provider decodes it with base64.StdEncoding)`);
    return Buffer.from(text, "base64").toString("base64");
}

