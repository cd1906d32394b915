/**
 * A client loop run in a task's container, printing one line per attempt: `ok <n> <start> <end> <detail>` or
 * `fail <n> <start> <end> <detail>` with epoch seconds (the containers share this machine's clock) and the attempt's
 * output folded to one line (why it failed; what a probe saw). The loop ends when its stop file appears or after
 * `maxSeconds` (bounded even if we die).
 *
 * It runs in the container's mount, network, UTS and IPC namespaces (nsenter on the container's PID: its binaries,
 * its resolv.conf and the Swarm's DNS, its overlay networks) but not in its cgroup. Under `docker exec` the loop
 * shared the task's CPU limit (a sentinel's 0.25 CPU, scaled down on the lab), and a shell that forks a few
 * clients per attempt made about one attempt a second where it asked for ten: the figure measured the client's CPU
 * quota, not the failover (first swarm bench runs, 2026-12-07). The service's own process keeps its limits.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { docker } from "../../test/swarm/lab";
import { execIn, RunningTask } from "../../test/swarm/support";

export interface Attempt {
    ok: boolean;
    n: number;
    start: number;
    end: number;
    /** The attempt's output (stdout and stderr, one line, at most 160 characters): why it failed, or what a probe saw. */
    detail: string;
}

export interface Loop {
    readonly attempts: Attempt[];
    /** Resolves once `count` attempts succeeded after `afterS` (epoch seconds), or rejects after `timeoutMs`. */
    okAfter(afterS: number, count: number, timeoutMs: number): Promise<Attempt>;
    stop(): Promise<void>;
}

let seq = 0;

/** The host PID of `task`'s container (its namespaces are /proc/<pid>/ns/*, its files /proc/<pid>/root). */
export function taskPid(task: RunningTask): number {
    const pid = Number(docker(task.node.socket, ["inspect", "--format", "{{.State.Pid}}", task.containerId], { timeoutMs: 15_000 }));
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`container ${task.containerId} of ${task.service} on ${task.node.hostname} has no running process`);
    return pid;
}

/**
 * Starts `attempt` (a shell command that exits 0 on an acknowledged attempt; `$n` is the attempt number) every
 * `intervalS` in the task's container. `env` is passed to the shell (passwords: never on a command line we print).
 */
export function startLoop(task: RunningTask, attempt: string, opts: { intervalS: number; maxSeconds: number; env?: Record<string, string>; netOnly?: boolean }): Loop {
    // Unique per loop, also across runs of the bench in one process (a stop file left in a container stops a new loop).
    const stopFile = `/tmp/bench-loop-${process.pid}-${Date.now()}-${++seq}`;
    const outFile = `${stopFile}.out`;
    const script = [
        `end=$(( $(date +%s) + ${Math.ceil(opts.maxSeconds)} )); n=0`,
        `while [ ! -e ${stopFile} ] && [ $(date +%s) -lt $end ]; do`,
        `  n=$((n+1)); s=$(date +%s.%N)`,
        `  if ( ${attempt} ) >${outFile} 2>&1; then r=ok; else r=fail; fi`,
        `  echo "$r $n $s $(date +%s.%N) $(head -c 160 ${outFile} | tr -s '\\n\\r\\t' '   ')"`,
        `  sleep ${opts.intervalS}`,
        `done`,
    ].join("\n");
    const pid = taskPid(task);
    // Only a plain PATH, HOME and `env` (passwords: in the environment, never on a command line).
    // netOnly: only the container's network namespace (this machine's binaries: psql, redis-cli), for a client that
    // must outlive no container of its own, in a container the operation does not restart.
    const namespaces = opts.netOnly ? ["-n"] : ["-m", "-u", "-i", "-n"];
    const child: ChildProcess = spawn("nsenter", ["-t", String(pid), ...namespaces, "sh", "-c", script], {
        env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/tmp", ...(opts.env ?? {}) },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const attempts: Attempt[] = [];
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines) {
            const m = /^(ok|fail) (\d+) ([\d.]+) ([\d.]+) ?(.*)$/.exec(l.trim());
            if (m) attempts.push({ ok: m[1] === "ok", n: Number(m[2]), start: Number(m[3]), end: Number(m[4]), detail: m[5].trim() });
        }
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    return {
        attempts,
        async okAfter(afterS, count, timeoutMs) {
            const t0 = Date.now();
            while (Date.now() - t0 < timeoutMs) {
                const oks = attempts.filter((a) => a.ok && a.start > afterS);
                if (oks.length >= count) return oks[0];
                if (child.exitCode !== null) throw new Error(`client loop in ${task.service} on ${task.node.hostname} exited ${child.exitCode}: ${stderr.slice(-500)}`);
                await new Promise((r) => setTimeout(r, 100));
            }
            throw new Error(`no acknowledged attempt after ${afterS} within ${timeoutMs / 1000} s (last: ${JSON.stringify(attempts.slice(-3))})`);
        },
        async stop() {
            if (opts.netOnly) fs.writeFileSync(stopFile, "");
            else execIn(task, ["touch", stopFile], { allowFail: true, timeoutMs: 10_000 });
            const t0 = Date.now();
            while (child.exitCode === null && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100));
            if (child.exitCode === null) child.kill("SIGKILL");
            if (opts.netOnly) for (const f of [stopFile, outFile]) fs.rmSync(f, { force: true });
        },
    };
}

/**
 * The failed attempts from `fromS` on, folded into runs of the same reason (digits ignored when comparing):
 * `+0.2..+6.1 s 12x <detail>`, times relative to `fromS`. Printed by the cases so a figure says where its seconds went.
 */
export function failureTimeline(attempts: Attempt[], fromS: number): string[] {
    const out: string[] = [];
    let run: { from: number; to: number; count: number; detail: string; key: string } | undefined;
    const f = (x: number) => `+${x.toFixed(1)}`;
    const flush = () => run && out.push(`${f(run.from)}..${f(run.to)} s ${run.count}x ${run.detail || "(no output)"}`);
    for (const a of attempts.filter((x) => x.start >= fromS)) {
        if (a.ok) {
            flush();
            out.push(`${f(a.end - fromS)} s first ok`);
            return out;
        }
        const key = a.detail.replace(/[\d.]+/g, "#");
        if (run && run.key === key) {
            run.to = a.end - fromS;
            run.count++;
        } else {
            flush();
            run = { from: a.start - fromS, to: a.end - fromS, count: 1, detail: a.detail, key };
        }
    }
    flush();
    return out;
}

/** The first attempt from `fromS` on whose detail satisfies `test` (a probe loop's observation), or undefined. */
export function firstSeen(attempts: Attempt[], fromS: number, test: (detail: string) => boolean): Attempt | undefined {
    return attempts.find((a) => a.ok && a.start >= fromS && test(a.detail));
}
