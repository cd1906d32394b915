/**
 * Postgres clients for the Day-2 cases on the Swarm lab: run in the network namespace of a Postgres router (HAProxy)
 * task, with this machine's psql, against the router's own primary port (127.0.0.1:5000, which routes only to the
 * Patroni leader). The router is the one service these operations never restart, so the client outlives every
 * Patroni task the operation replaces (a client in a Patroni container loses its network when that container stops).
 */
import { spawnSync } from "node:child_process";
import { HAPROXY_DEFAULTS } from "../../renderers/haproxy";
import { runningTasks, RunningTask, StackLab } from "../../test/swarm/support";
import { backendEnv } from "./swarmFailover";
import { Loop, startLoop, taskPid } from "./swarmLoop";

export const ROUTER = "opscenter-postgres-router";

/** A running router task, not on host `notOn`. */
export async function routerTask(s: StackLab, notOn?: string): Promise<RunningTask> {
    const t = (await runningTasks(s, ROUTER)).find((x) => x.node.hostname !== notOn);
    if (!t) throw new Error(`no running ${ROUTER} task${notOn ? ` off ${notOn}` : ""}`);
    return t;
}

/** psql (this machine's, >= 15) to the router's primary port as the backend's role, bounded at 2 s to connect. */
export function psqlCommand(s: StackLab): string {
    const env = backendEnv(s);
    return `PGCONNECT_TIMEOUT=2 psql -X -At -h 127.0.0.1 -p ${HAPROXY_DEFAULTS.primaryPort} -U ${env.DATABASE_USER} -d ${env.DATABASE_NAME}`;
}

/** Starts one INSERT every 0.2 s (tag, n) into swarm_bench through `router`; resolves once 5 were acknowledged. */
export async function startPgWriter(s: StackLab, router: RunningTask, password: string, tag: string, maxSeconds: number): Promise<Loop> {
    const psql = psqlCommand(s);
    // The table, once, from the same namespace (any Patroni task would do; the router is already at hand).
    const create = startLoop(router, `${psql} -c "CREATE TABLE IF NOT EXISTS swarm_bench (run text, n int, PRIMARY KEY (run, n))"`, { intervalS: 1, maxSeconds: 60, env: { PGPASSWORD: password }, netOnly: true });
    try {
        await create.okAfter(0, 1, 60_000);
    } finally {
        await create.stop();
    }
    const loop = startLoop(router, `${psql} -c "INSERT INTO swarm_bench VALUES ('${tag}', $n)"`, { intervalS: 0.2, maxSeconds, env: { PGPASSWORD: password }, netOnly: true });
    await loop.okAfter(0, 5, 60_000);
    return loop;
}

/** Acknowledged writes of `loop` missing from swarm_bench (read through `router` as the backend's role). */
export function missingWrites(s: StackLab, router: RunningTask, password: string, tag: string, loop: Loop): { acked: number; missing: number[] } {
    const acked = loop.attempts.filter((a) => a.ok).map((a) => a.n);
    const out = nsenterPsql(router, `${psqlCommand(s)} -c "SELECT n FROM swarm_bench WHERE run = '${tag}'"`, password);
    const have = new Set(out.split(/\s+/).filter(Boolean).map(Number));
    return { acked: acked.length, missing: acked.filter((n) => !have.has(n)) };
}

/** Runs a psql command line in `task`'s network namespace with this machine's psql; throws on failure. */
export function nsenterPsql(task: RunningTask, command: string, password: string): string {
    const r = spawnSync("nsenter", ["-t", String(taskPid(task)), "-n", "sh", "-c", command], { encoding: "utf8", timeout: 30_000, env: { PATH: process.env.PATH, HOME: "/tmp", PGPASSWORD: password } });
    if (r.status !== 0) throw new Error(`psql in ${task.service} on ${task.node.hostname}: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
    return r.stdout;
}
