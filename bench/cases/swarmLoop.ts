/**
 * A client loop run inside a task's container (docker exec on the node that runs it), printing one line per
 * attempt: `ok <n> <start> <end>` or `fail <n> <start> <end>` with epoch seconds (the containers share this
 * machine's clock). The loop ends when its stop file appears or after `maxSeconds` (bounded even if we die).
 */
import { ChildProcess, spawn } from "node:child_process";
import { execIn, RunningTask } from "../../test/swarm/support";

export interface Attempt { ok: boolean; n: number; start: number; end: number }

export interface Loop {
    readonly attempts: Attempt[];
    /** Resolves once `count` attempts succeeded after `afterS` (epoch seconds), or rejects after `timeoutMs`. */
    okAfter(afterS: number, count: number, timeoutMs: number): Promise<Attempt>;
    stop(): Promise<void>;
}

let seq = 0;

/**
 * Starts `attempt` (a shell command that exits 0 on an acknowledged attempt; `$n` is the attempt number) every
 * `intervalS` in the task's container. `env` is passed to the shell (passwords: never on a command line we print).
 */
export function startLoop(task: RunningTask, attempt: string, opts: { intervalS: number; maxSeconds: number; env?: Record<string, string> }): Loop {
    const stopFile = `/tmp/bench-loop-${process.pid}-${++seq}`;
    const script = [
        `end=$(( $(date +%s) + ${Math.ceil(opts.maxSeconds)} )); n=0`,
        `while [ ! -e ${stopFile} ] && [ $(date +%s) -lt $end ]; do`,
        `  n=$((n+1)); s=$(date +%s.%N)`,
        `  if ( ${attempt} ) >/dev/null 2>&1; then r=ok; else r=fail; fi`,
        `  echo "$r $n $s $(date +%s.%N)"`,
        `  sleep ${opts.intervalS}`,
        `done`,
    ].join("\n");
    const envArgs = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const child: ChildProcess = spawn("docker", ["exec", ...envArgs, task.containerId, "sh", "-c", script], {
        env: { ...process.env, DOCKER_HOST: `unix://${task.node.socket}` },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const attempts: Attempt[] = [];
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines) {
            const m = /^(ok|fail) (\d+) ([\d.]+) ([\d.]+)$/.exec(l.trim());
            if (m) attempts.push({ ok: m[1] === "ok", n: Number(m[2]), start: Number(m[3]), end: Number(m[4]) });
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
            execIn(task, ["touch", stopFile], { allowFail: true, timeoutMs: 10_000 });
            const t0 = Date.now();
            while (child.exitCode === null && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100));
            if (child.exitCode === null) child.kill("SIGKILL");
        },
    };
}
