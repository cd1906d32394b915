/**
 * The body of Patroni's REST `PATCH /config` that brings a live cluster's DCS configuration to what the program
 * deployed. Patroni writes `bootstrap.dcs` to the DCS once, when the cluster is created, and ignores later
 * changes there ("use patronictl edit-config or the REST API", Patroni docs, dynamic configuration): a role
 * change (promotion removes `standby_cluster`) and every later change of ttl, loop_wait, retry_timeout,
 * synchronous_mode, postgresql.parameters, ... must be PATCHed onto the live cluster.
 *
 * PATCH semantics (patroni/api.py `do_PATCH_config` -> patroni/utils.py `patch_config`): objects merge key by key,
 * `null` removes a key, any other value (lists included) replaces it. The live config also holds keys Spilo
 * generates that the program does not set: those are left alone; only keys the program owns and dropped
 * ({@link OWNED_REMOVABLE_KEYS}) are removed.
 *
 * Pure: no I/O. scripts/promote.ts sends what this computes.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Top-level DCS keys the program sets in some roles only: absent from the deployed config means "remove". */
export const OWNED_REMOVABLE_KEYS = ["standby_cluster"] as const;

const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Patroni keeps what it was given; Spilo and patronictl may hand back `60` as `"60"` or `on` as `true`: values
 * equal as Postgres reads them are equal (no PATCH, so no needless reload).
 */
function sameScalar(a: Json | undefined, b: Json): boolean {
    if (a === undefined) return false;
    const norm = (v: Json) => (v === true ? "on" : v === false ? "off" : typeof v === "string" ? v.toLowerCase() : JSON.stringify(v));
    if (isObject(a) || isObject(b) || Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
    return norm(a) === norm(b) || (a === "true" && b === true) || (a === "false" && b === false) || (a === true && b === "true") || (a === false && b === "false");
}

function diff(live: JsonObject, desired: JsonObject): JsonObject {
    const out: JsonObject = {};
    for (const [k, want] of Object.entries(desired)) {
        const have = live[k];
        if (isObject(want) && isObject(have)) {
            const sub = diff(have, want);
            if (Object.keys(sub).length > 0) out[k] = sub;
        } else if (!sameScalar(have, want)) {
            out[k] = want;
        }
    }
    return out;
}

/**
 * The `PATCH /config` body that turns `live` (Patroni's `GET /config`) into `desired` (the deployed
 * `bootstrap.dcs`), or `undefined` when nothing differs. Keys only `live` has are kept, except the
 * {@link OWNED_REMOVABLE_KEYS}, which are set to `null` (removed). A promotion is the case where `desired` has no
 * `standby_cluster`: the body then holds `"standby_cluster": null`, and Patroni promotes the standby leader.
 */
export function dcsPatch(live: JsonObject, desired: JsonObject): JsonObject | undefined {
    const body = diff(live, desired);
    for (const k of OWNED_REMOVABLE_KEYS) if (live[k] !== undefined && live[k] !== null && !(k in desired)) body[k] = null;
    return Object.keys(body).length > 0 ? body : undefined;
}

/** The DCS config of a promoted region: the deployed one without `standby_cluster`. */
export function promotedDcs(deployed: JsonObject): JsonObject {
    const { standby_cluster: _dropped, ...rest } = deployed;
    return rest;
}

/**
 * The `PATCH /config` body of a region promotion: the live DCS brought to the deployed one without
 * `standby_cluster` (`{"standby_cluster": null}` plus any other difference). `npm run promote` sends it; the
 * region_promotion bench and its chaos test send the same body, computed here.
 */
export function promotionPatch(live: JsonObject, deployed: JsonObject): JsonObject | undefined {
    return dcsPatch(live, promotedDcs(deployed));
}

/** One request the promotion sends, as `--dry-run` prints it. */
export interface PatroniRequest {
    readonly method: "GET" | "PATCH";
    readonly path: "/config";
    readonly body?: JsonObject;
}

/** `bootstrap.dcs` of a Spilo member's `SPILO_CONFIGURATION` (parsed YAML), or a message naming what is missing. */
export function bootstrapDcs(spiloConfiguration: unknown): JsonObject {
    const c = spiloConfiguration as { bootstrap?: { dcs?: unknown } } | null;
    const dcs = c && typeof c === "object" ? c.bootstrap?.dcs : undefined;
    if (!isObject(dcs as Json)) throw new Error("SPILO_CONFIGURATION has no bootstrap.dcs object: is this an ops-center-ha Spilo member?");
    return dcs as JsonObject;
}
