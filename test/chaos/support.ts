/**
 * Shared plumbing for the chaos tests and the failover benchmark: start real daemons, wait for
 * conditions with a bound on both attempts and time, and stop every process started, by PID.
 *
 * Nothing here knows about a particular daemon; the per-daemon scenarios live beside it.
 */
import { ChildProcess, spawn, spawnSync, SpawnOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A daemon started by a scenario; `stop` and `kill9` act on its PID (and process group). */
export interface Daemon {
    readonly name: string;
    readonly pid: number;
    readonly logFile: string;
    readonly child: ChildProcess;
    /** True once the process has exited. */
    exited(): boolean;
}

const started: Daemon[] = [];

/** Options for {@link startDaemon}. */
export interface StartOptions {
    /** Run as this system user (via `runuser`), e.g. "postgres" for Patroni, which must not run as root. */
    readonly user?: string;
    /** Run inside this network namespace (via `ip netns exec`). */
    readonly netns?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly cwd?: string;
}

/**
 * Starts `cmd args` in its own process group, with stdout and stderr appended to `logFile`.
 * The process is remembered so that {@link stopAll} can stop it.
 */
export function startDaemon(name: string, cmd: string, args: string[], logFile: string, opts: StartOptions = {}): Daemon {
    let argv = [cmd, ...args];
    if (opts.user) {
        // -p keeps the environment we pass; runuser is in util-linux and needs no password as root.
        argv = ["runuser", "-u", opts.user, "--", ...argv];
    }
    if (opts.netns) {
        argv = ["ip", "netns", "exec", opts.netns, ...argv];
    }
    const out = fs.openSync(logFile, "a");
    const spawnOpts: SpawnOptions = {
        detached: true,
        stdio: ["ignore", out, out],
        env: { ...process.env, ...(opts.env ?? {}) },
        cwd: opts.cwd,
    };
    const child = spawn(argv[0], argv.slice(1), spawnOpts);
    fs.closeSync(out);
    if (child.pid === undefined) {
        throw new Error(`could not start ${name}: ${argv.join(" ")}`);
    }
    let done = false;
    child.on("exit", () => {
        done = true;
    });
    child.on("error", () => {
        done = true;
    });
    const d: Daemon = { name, pid: child.pid, logFile, child, exited: () => done };
    started.push(d);
    return d;
}

/** Sends `signal` to the daemon's whole process group (it was started detached, as a group leader). */
export function signalDaemon(d: Daemon, signal: NodeJS.Signals): void {
    try {
        process.kill(-d.pid, signal);
    } catch {
        // already gone
    }
}

/** Waits until the daemon has exited, at most `timeoutMs`. */
export async function waitExit(d: Daemon, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!d.exited() && Date.now() < deadline) {
        await sleep(50);
    }
    return d.exited();
}

/** Stops one daemon: SIGTERM to its group, then SIGKILL after `graceMs`. */
export async function stopDaemon(d: Daemon, graceMs = 5_000): Promise<void> {
    if (d.exited()) return;
    signalDaemon(d, "SIGTERM");
    if (!(await waitExit(d, graceMs))) {
        signalDaemon(d, "SIGKILL");
        await waitExit(d, 2_000);
    }
}

/** Stops every daemon started in this process, newest first. Call it from `after()`. */
export async function stopAll(): Promise<void> {
    while (started.length > 0) {
        const d = started.pop()!;
        await stopDaemon(d);
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, at most `attempts` times and
 * at most `timeoutMs` in all. Throws with `what` in the message when the bound is reached.
 */
export async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false> | T | undefined | false,
    { timeoutMs = 30_000, intervalMs = 100, attempts = 10_000 }: { timeoutMs?: number; intervalMs?: number; attempts?: number } = {},
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    for (let i = 0; i < attempts && Date.now() < deadline; i++) {
        try {
            const v = await probe();
            if (v !== undefined && v !== false) return v as T;
        } catch (e) {
            lastErr = e;
        }
        await sleep(intervalMs);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ""}`);
}

/** Runs a command to completion (bounded by `timeoutMs`) and returns its output; throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { user?: string; netns?: string; timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): { code: number; stdout: string; stderr: string } {
    let argv = [cmd, ...args];
    if (opts.user) argv = ["runuser", "-u", opts.user, "--", ...argv];
    if (opts.netns) argv = ["ip", "netns", "exec", opts.netns, ...argv];
    const r = spawnSync(argv[0], argv.slice(1), {
        encoding: "utf8",
        timeout: opts.timeoutMs ?? 30_000,
        input: opts.input,
        env: { ...process.env, ...(opts.env ?? {}) },
    });
    const code = r.status ?? -1;
    if (code !== 0 && !opts.allowFail) {
        throw new Error(`${argv.join(" ")} exited ${code}${r.error ? ` (${r.error.message})` : ""}: ${r.stderr || r.stdout}`);
    }
    return { code, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

const scratch: string[] = [];
// Scratch directories go when the process exits (after every daemon was stopped); KEEP_CHAOS_DIRS=1 keeps them
// (with the daemons' logs) for a post-mortem.
process.on("exit", () => {
    if (process.env.KEEP_CHAOS_DIRS === "1") {
        if (scratch.length > 0) process.stderr.write(`chaos scratch directories kept: ${scratch.join(" ")}\n`);
        return;
    }
    for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});

/** Makes a fresh scratch directory under the OS temp dir, owned by `owner` when given; removed at exit. */
export function scratchDir(prefix: string, owner?: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ochaos-${prefix}-`));
    scratch.push(dir);
    fs.chmodSync(dir, 0o755);
    if (owner) run("chown", ["-R", `${owner}:${owner}`, dir]);
    return dir;
}

/** Throws a clear error naming the Debian package when a binary the scenario needs is missing. */
export function requireBinaries(bins: Record<string, string>): void {
    const missing = Object.entries(bins).filter(([bin]) => spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0);
    if (missing.length > 0) {
        const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(" ");
        throw new Error(`missing ${missing.map(([b]) => b).join(", ")}: install with 'apt-get install -y ${pkgs}' (.ci/run does this)`);
    }
}

/** Throws unless running as root (network namespaces and `runuser` need it). */
export function requireRoot(why: string): void {
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
        throw new Error(`this scenario must run as root: ${why} (CI runs as root)`);
    }
}
