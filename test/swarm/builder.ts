/**
 * The image builder of the Swarm lab: a dockerd of our own in the root network namespace (no bridge, no iptables:
 * it touches no firewall; RUN steps use --network host to reach Debian's mirror), in its own mount namespace like the
 * lab's engines (lab.ts dockerdCommand), with its data-root in the cache so that the layer cache survives runs.
 * One builder at a time on the machine (a lock directory holding its owner's PID); stopped by PID afterwards.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { dockerdCommand } from "./lab";

export const CACHE = process.env.OPSCENTER_TEST_CACHE ?? "/var/cache/opscenter-test";

function dockerOk(socket: string): boolean {
    return spawnSync("docker", ["version"], { env: { ...process.env, DOCKER_HOST: `unix://${socket}` }, timeout: 5_000, stdio: "ignore" }).status === 0;
}

export const BUILDER_RUN = "/run/opscenter-lab/builder";
const BUILDER_SOCKET = path.join(BUILDER_RUN, "docker.sock");
const BUILDER_LOCK = "/run/opscenter-builder.lock";

/**
 * Runs `fn` against a builder dockerd of our own in the root network namespace (no bridge, no iptables: it
 * touches no firewall; RUN steps use --network host), data-root in the cache (the layer cache survives runs).
 * One builder at a time on the machine (a lock directory with its owner's PID); stopped by PID afterwards.
 */
export async function withBuilder<T>(fn: (socket: string) => Promise<T>): Promise<T> {
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
        try {
            fs.mkdirSync(BUILDER_LOCK);
            fs.writeFileSync(path.join(BUILDER_LOCK, "owner"), String(process.pid));
            break;
        } catch {
            let owner = 0;
            try {
                owner = Number(fs.readFileSync(path.join(BUILDER_LOCK, "owner"), "utf8"));
            } catch {
                // being written
            }
            let alive = owner > 0;
            try {
                if (owner > 0) process.kill(owner, 0);
            } catch {
                alive = false;
            }
            if (owner > 0 && !alive) {
                stopBuilderLeftovers();
                fs.rmSync(BUILDER_LOCK, { recursive: true, force: true });
                continue;
            }
            if (Date.now() > deadline) throw new Error(`image builder busy (lock ${BUILDER_LOCK} held by PID ${owner}) for 30 min`);
            await new Promise((r) => setTimeout(r, 2_000));
        }
    }
    let pid = 0;
    // Interrupted (Ctrl-C, a test runner's SIGTERM): stop the builder by PID and free the lock, then die of the signal.
    const onSignal = (sig: NodeJS.Signals) => {
        stopBuilderLeftovers(pid);
        fs.rmSync(BUILDER_LOCK, { recursive: true, force: true });
        process.kill(process.pid, sig);
    };
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    for (const sig of signals) process.once(sig, onSignal);
    try {
        stopBuilderLeftovers();
        fs.mkdirSync(BUILDER_RUN, { recursive: true });
        const dataRoot = path.join(CACHE, "builder");
        fs.mkdirSync(dataRoot, { recursive: true });
        const configFile = path.join(BUILDER_RUN, "daemon.json");
        fs.writeFileSync(configFile, JSON.stringify({
            "data-root": dataRoot,
            "exec-root": path.join(BUILDER_RUN, "exec"),
            pidfile: path.join(BUILDER_RUN, "docker.pid"),
            hosts: [`unix://${BUILDER_SOCKET}`],
            bridge: "none",
            iptables: false,
            "ip-masq": false,
            "ip-forward": false,
            "log-level": "warn",
            "storage-driver": "overlay2",
        }, null, 2));
        const log = fs.openSync(path.join(CACHE, "builder.log"), "a");
        const [cmd, args] = dockerdCommand({ configFile });
        const child = spawn(cmd, args, { detached: true, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        pid = child.pid ?? 0;
        child.unref();
        const until = Date.now() + 60_000;
        while (!dockerOk(BUILDER_SOCKET)) {
            if (Date.now() > until || child.exitCode !== null) throw new Error(`image builder did not start (see ${path.join(CACHE, "builder.log")})`);
            await new Promise((r) => setTimeout(r, 300));
        }
        return await fn(BUILDER_SOCKET);
    } finally {
        for (const sig of signals) process.removeListener(sig, onSignal);
        stopBuilderLeftovers(pid);
        fs.rmSync(BUILDER_LOCK, { recursive: true, force: true });
    }
}

/** SIGKILLs the builder's processes (by PID and by its run directory in their command line) and removes its run dir. */
function stopBuilderLeftovers(pid = 0): void {
    const pids = new Set<number>(pid > 0 ? [pid] : []);
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            if (fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(BUILDER_RUN + "/")) pids.add(Number(e));
        } catch {
            // gone
        }
    }
    for (const p of pids) {
        try {
            process.kill(p, "SIGTERM");
        } catch {
            // gone
        }
    }
    const until = Date.now() + 15_000;
    const alive = (p: number) => {
        try {
            process.kill(p, 0);
            return !/^\S+ \S+ Z/.test(fs.readFileSync(`/proc/${p}/stat`, "utf8").replace(/\(.*\)/, "x"));
        } catch {
            return false;
        }
    };
    while ([...pids].some(alive) && Date.now() < until) spawnSync("sleep", ["0.2"]);
    for (const p of pids) {
        try {
            process.kill(p, "SIGKILL");
        } catch {
            // gone
        }
    }
    fs.rmSync(BUILDER_RUN, { recursive: true, force: true });
}

