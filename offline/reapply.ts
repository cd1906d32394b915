/**
 * What the next `pulumi up` would change on one resource, the way the engine and the bridged providers (aws,
 * docker) decide it: the program's new inputs, after `ignoreChanges` (the engine replaces ignored properties
 * with their old values, pulumi/pulumi `processIgnoreChanges`), compared with the state the provider stored.
 * Pure, for the re-apply tests: nothing random, time-based or order-dependent may differ between two runs,
 * and no field may read back differently from how it was given.
 */
import { isDeepStrictEqual } from "node:util";

const SIG_KEY = "4dabf18193072939515e22adb298388d";

function plain(v: unknown): unknown {
    if (v !== null && typeof v === "object" && SIG_KEY in v) return plain((v as unknown as { value: unknown }).value);
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

/** Top-level input properties whose new value differs from the stored state, ignored properties left out. */
export function changedProperties(newInputs: Record<string, unknown>, oldState: Record<string, unknown>, ignoreChanges: readonly string[] = []): string[] {
    return Object.keys(newInputs)
        .filter((k) => !ignoreChanges.includes(k))
        .filter((k) => !isDeepStrictEqual(plain(newInputs[k]), plain(oldState[k])))
        .sort();
}
