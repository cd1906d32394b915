/**
 * Pure helpers for Swarm service specs: content-hashed names for immutable configs and secrets,
 * resource units, placement constraints, and the update/rollback policies every tier shares.
 */
import { createHash } from "node:crypto";
import { HostRole } from "../config/types";

/** Swarm configs and secrets are immutable: a name that carries the content hash makes a change a new object. */
export function contentName(base: string, content: string): string {
    return `${base}-${createHash("sha256").update(content).digest("hex").slice(0, 12)}`;
}

/** CPUs as Docker's nano-CPUs. */
export function nanoCpus(cpus: number): number {
    return Math.round(cpus * 1e9);
}

/** "512M", "2G" as bytes. */
export function memoryBytes(text: string): number {
    const m = /^(\d+)([KMG])$/.exec(text);
    if (!m) throw new Error(`memory ${JSON.stringify(text)}: use a whole number with K, M or G, such as 512M`);
    return Number(m[1]) * 1024 ** { K: 1, M: 2, G: 3 }[m[2] as "K" | "M" | "G"];
}

/** Constraints pinning a task to hosts of one role (and optionally one host). */
export function placeOn(role: HostRole, opts: { hostname?: string } = {}): string[] {
    const c = [`node.labels.role==${role}`];
    if (opts.hostname) c.push(`node.hostname==${opts.hostname}`);
    return c;
}

/**
 * Update policy of a stateless tier: start the new task before stopping the old one, watch it for
 * `monitor`, and roll back automatically when it fails.
 */
export function statelessUpdate(parallelism: number, delay: string, monitor: string) {
    return { parallelism, delay, order: "start-first", failureAction: "rollback", monitor, maxFailureRatio: "0" };
}

/** Update policy of a stateful task: never two copies of the same data directory at once. */
export function statefulUpdate(monitor = "30s") {
    return { parallelism: 1, delay: "10s", order: "stop-first", failureAction: "pause", monitor, maxFailureRatio: "0" };
}

/**
 * How the members of a replicated stateful tier (etcd, Patroni/Spilo, Redis and Sentinel: one Swarm service per
 * member, each pinned to its host and volume) roll. Each member service gets:
 * - `updateConfig`: stop-first (one data directory, never two tasks on it), parallelism 1, `failureAction: rollback`
 *   (a member whose new spec fails comes back on its old one instead of staying down), and `monitor` covering the
 *   member's health check (start period + retries x interval), so a task that turns unhealthy is caught;
 * - `rollbackConfig`: the same, stop-first;
 * - `convergeConfig`: the Docker provider waits for the update to complete before it reports the resource done
 *   (kreuzwerker/terraform-provider-docker internal/provider/resource_docker_service_funcs.go, under @pulumi/docker
 *   5.2 ServiceArgs.convergeConfig: create waits for every task running, update for UpdateStatus "completed"; a
 *   paused or rolled-back update is an error). A task with a health check is running only once healthy;
 * - and, set by the component, `dependsOn` the previous member of its tier, so that the engine updates the next
 *   member only after the previous one converged: one member down at a time, and `pulumi up` reports success only
 *   once every task runs.
 */
export function memberRolling(monitor: string, convergeTimeout: string) {
    const policy = { parallelism: 1, delay: "5s", order: "stop-first", failureAction: "rollback", monitor, maxFailureRatio: "0" };
    return {
        updateConfig: policy,
        rollbackConfig: { ...policy, failureAction: "pause" },
        convergeConfig: { delay: "5s", timeout: convergeTimeout },
    };
}

/**
 * The order a chain of members rolls in: `names` as given, except `last` (the live leader, config
 * postgresRollLast) moved to the end, so that stopping it (a handover) happens once, onto a member already rolled.
 */
export function rollOrder<T extends string>(names: readonly T[], last?: string): T[] {
    if (last === undefined) return [...names];
    if (!names.includes(last as T)) throw new Error(`rollOrder: ${JSON.stringify(last)} is not one of ${names.join(", ")}`);
    return [...names.filter((n) => n !== last), last as T];
}

/** Rollback policy matching `statelessUpdate`. */
export function statelessRollback(parallelism: number, monitor: string) {
    return { parallelism, delay: "0s", order: "start-first", failureAction: "pause", monitor, maxFailureRatio: "0" };
}

/** Docker's healthcheck spec from seconds. */
export function healthcheck(test: string[], s: { interval: number; timeout: number; retries: number; startPeriod: number }) {
    return { tests: test, interval: `${s.interval}s`, timeout: `${s.timeout}s`, retries: s.retries, startPeriod: `${s.startPeriod}s` };
}

/** Service labels in the provider's list form. */
export function labelList(labels: Record<string, string>): { label: string; value: string }[] {
    return Object.keys(labels)
        .sort()
        .map((label) => ({ label, value: labels[label] }));
}
