/**
 * Which Swarm manager the Pulumi Docker provider talks to (pure).
 *
 * Every manager publishes a heartbeat to SSM, `<prefix>/managers/<hostname>` = `addr=<ip> instance=<id> at=<epoch>`,
 * when it joins and then on every pass of its labelling timer (renderers/cloudInit.ts). The provider uses the
 * first manager, in hostname order, whose heartbeat names the instance this stack runs under that hostname (so a
 * replaced host's leftover entry never counts) and is at most `maxAgeSeconds` old (so a dead, demoted or
 * stopped manager is skipped once its heartbeat stops). Any manager serves the Swarm API: they share the Raft log.
 *
 * Upgrade path: a stack deployed before the per-manager heartbeats runs managers whose scripts (kept by
 * `ignoreChanges` on the user data) publish only the legacy single `<prefix>/manager-instance-id` (app-0's instance
 * id, written after `swarm init` and the join tokens: the readiness signal of that version). When no manager is live
 * by heartbeat, a manager that has never published a heartbeat of its own and whose instance id that legacy
 * parameter names is used at once, as the previous version did (`chooseManager`). A manager that has a heartbeat
 * entry, even a stale one, runs the new scripts and is judged by its heartbeat only, so a dead app-0 of a current
 * stack is never picked through its leftover legacy parameter.
 */

/** A heartbeat older than this (seconds) is a dead manager: 5 labelling passes of 60 s missed. */
export const HEARTBEAT_MAX_AGE_SECONDS = 300;

/** One parsed heartbeat. */
export interface ManagerHeartbeat {
    readonly addr: string;
    readonly instance: string;
    /** Unix seconds. */
    readonly at: number;
}

/** A manager host of this stack, as planned. */
export interface PlannedManager {
    readonly hostname: string;
    readonly instanceId: string;
    readonly privateIp: string;
}

/** Parses `addr=<ip> instance=<id> at=<epoch>`; undefined for anything else. */
export function parseHeartbeat(value: string | undefined): ManagerHeartbeat | undefined {
    if (!value) return undefined;
    const m = /^addr=(\d{1,3}(?:\.\d{1,3}){3}) instance=(\S+) at=(\d{9,11})$/.exec(value.trim());
    return m ? { addr: m[1], instance: m[2], at: Number(m[3]) } : undefined;
}

/** Why a manager is not live, or undefined when it is. */
export function notLiveReason(m: PlannedManager, heartbeat: string | undefined, nowSeconds: number, maxAgeSeconds = HEARTBEAT_MAX_AGE_SECONDS): string | undefined {
    const h = parseHeartbeat(heartbeat);
    if (!h) return heartbeat ? `unreadable heartbeat ${JSON.stringify(heartbeat)}` : "no heartbeat";
    if (h.instance !== m.instanceId) return `heartbeat of ${h.instance}, not of ${m.instanceId} (a replaced host)`;
    const age = nowSeconds - h.at;
    if (age > maxAgeSeconds) return `heartbeat ${age} s old (more than ${maxAgeSeconds} s)`;
    if (age < -60) return `heartbeat ${-age} s in the future (clock skew)`;
    return undefined;
}

/** The first live manager in the given order, or undefined. */
export function pickLiveManager(
    managers: readonly PlannedManager[],
    heartbeats: Readonly<Record<string, string | undefined>>,
    nowSeconds: number,
    maxAgeSeconds = HEARTBEAT_MAX_AGE_SECONDS,
): PlannedManager | undefined {
    return managers.find((m) => notLiveReason(m, heartbeats[m.hostname], nowSeconds, maxAgeSeconds) === undefined);
}

/** How the chosen manager was found: by its live heartbeat, or by the legacy `manager-instance-id` parameter. */
export type ManagerSource = "heartbeat" | "legacy";

/** The manager the Docker provider uses, and how it was found. */
export interface ChosenManager {
    readonly manager: PlannedManager;
    readonly source: ManagerSource;
}

/**
 * The first live manager by heartbeat; else, for a stack deployed before the heartbeats, the manager named by the
 * legacy `manager-instance-id` parameter when that manager has no heartbeat entry at all; else undefined.
 */
export function chooseManager(
    managers: readonly PlannedManager[],
    heartbeats: Readonly<Record<string, string | undefined>>,
    legacyInstanceId: string | undefined,
    nowSeconds: number,
    maxAgeSeconds = HEARTBEAT_MAX_AGE_SECONDS,
): ChosenManager | undefined {
    const live = pickLiveManager(managers, heartbeats, nowSeconds, maxAgeSeconds);
    if (live) return { manager: live, source: "heartbeat" };
    const legacy = legacyInstanceId?.trim();
    const named = legacy ? managers.find((m) => m.instanceId === legacy) : undefined;
    return named && !heartbeats[named.hostname] ? { manager: named, source: "legacy" } : undefined;
}

/** Why the legacy parameter does not name a usable manager (for the gate's wait message). */
export function legacyNotUsableReason(managers: readonly PlannedManager[], legacyInstanceId: string | undefined): string {
    const legacy = legacyInstanceId?.trim();
    if (!legacy) return "no legacy manager-instance-id";
    const named = managers.find((m) => m.instanceId === legacy);
    if (!named) return `legacy manager-instance-id ${legacy} names no manager of this stack`;
    return `legacy manager-instance-id names ${named.hostname}, which publishes heartbeats (judged by them)`;
}
