/**
 * The machine side of the Swarm lab (test/swarm/lab.ts): names of what a lab slot creates, processes found by PID
 * and by command line, the root namespace's iptables rules by comment, mounts, and the cleanup of a slot. Every
 * wait here is bounded; nothing here touches a thing it did not name.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const RUN_ROOT = "/run/opscenter-lab";
export const SLOTS = 16;

/** Names and addresses of everything a slot creates; the only source of names, for start and cleanup. */
export function slotNames(slot: number) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new Error(`lab slot ${slot}: must be 0-${SLOTS - 1}`);
    return {
        bridge: `osl${slot}br`,
        netnsPrefix: `osl${slot}-`,
        netns: (host: string) => `osl${slot}-${host}`,
        /** Root side of host i's veth (IFNAMSIZ is 16: keep names short). */
        veth: (i: number) => `osl${slot}v${i}`,
        vethPeer: (i: number) => `osl${slot}p${i}`,
        vethPrefix: `osl${slot}v`,
        comment: `opscenter-lab-${slot}`,
        subnet: `10.231.${slot}.0/24`,
        gateway: `10.231.${slot}.1`,
        address: (i: number) => `10.231.${slot}.${10 + i}`,
        /** docker0 of host i: distinct per host and slot. */
        bip: (i: number) => `10.232.${slot * 16 + i}.1/24`,
        runDir: path.join(RUN_ROOT, String(slot)),
        lock: path.join(RUN_ROOT, `slot-${slot}`),
    };
}

export function sh(cmd: string, args: string[], opts: { allowFail?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}) {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: opts.timeoutMs ?? 30_000, env: opts.env ?? process.env, input: opts.input });
    const code = r.status ?? -1;
    if (code !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(" ")} exited ${code}${r.error ? ` (${r.error.message})` : ""}: ${(r.stderr || r.stdout || "").trim()}`);
    return { code, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True while `pid` runs (a zombie, killed but not yet reaped by its parent, counts as gone). */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false;
    }
}

/** Every process (pid -> ppid, cmdline) from /proc. */
function processTable(): { pid: number; ppid: number; cmd: string }[] {
    const out: { pid: number; ppid: number; cmd: string }[] = [];
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            const cmd = fs.readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0/g, " ");
            out.push({ pid: Number(e), ppid, cmd });
        } catch {
            // gone meanwhile
        }
    }
    return out;
}

/**
 * PIDs of one host: processes whose command line names its run directory (dockerd's config, containerd's
 * config and socket, the shims' `-address`), plus every descendant of those (the containers' processes).
 */
export function hostPids(runDir: string, extra: number[] = []): number[] {
    const table = processTable();
    const roots = new Set<number>(extra.filter(alive));
    for (const p of table) if (p.cmd.includes(runDir + "/")) roots.add(p.pid);
    const all = new Set(roots);
    for (let grew = true, i = 0; grew && i < 64; i++) {
        grew = false;
        for (const p of table) {
            if (!all.has(p.pid) && all.has(p.ppid)) {
                all.add(p.pid);
                grew = true;
            }
        }
    }
    all.delete(process.pid);
    return [...all];
}

/** SIGKILLs `pids` and waits (bounded) until they are gone; returns the ones still alive. */
export function killAll(pids: number[], timeoutMs = 10_000): number[] {
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
    const deadline = Date.now() + timeoutMs;
    let left = pids.filter(alive);
    while (left.length > 0 && Date.now() < deadline) {
        sleepSync(50);
        left = left.filter(alive);
    }
    return left;
}

/** Our iptables rules in the root namespace (by comment), as `-A CHAIN ...` lines. */
function ourRules(comment: string): string[] {
    const r = sh("iptables", ["-S"], { allowFail: true });
    return r.stdout.split("\n").filter((l) => {
        const argv = ruleArgv(l);
        return argv[0] === "-A" && argv.some((a, i) => a === "--comment" && argv[i + 1] === comment);
    });
}

/** Splits an `iptables -S` line into argv (it quotes comments with double quotes). */
function ruleArgv(line: string): string[] {
    const argv: string[] = [];
    const re = /"([^"]*)"|(\S+)/g;
    for (let m = re.exec(line); m; m = re.exec(line)) argv.push(m[1] ?? m[2]);
    return argv;
}

/** Removes every mount at or below `dir` in our mount namespace (deepest first, lazily). */
function unmountUnder(dir: string): void {
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4]).filter((m) => m && (m === dir || m.startsWith(dir + "/")));
    for (const m of mounts.sort((a, b) => b.length - a.length)) sh("umount", ["-l", m], { allowFail: true });
}

/** Removes everything named after `slot` (processes by run dir, namespaces, veths, bridge, rules, mounts, dirs). */
export function cleanSlot(slot: number, workDir?: string, pids: number[] = []): string[] {
    const n = slotNames(slot);
    const problems: string[] = [];
    const left = killAll(hostPids(n.runDir, pids));
    if (left.length > 0) problems.push(`processes still alive: ${left.join(" ")}`);
    const nets = fs.existsSync("/var/run/netns") ? fs.readdirSync("/var/run/netns").filter((x) => x.startsWith(n.netnsPrefix)) : [];
    for (const ns of nets) {
        // A namespace's processes (none should be left) would keep it alive: kill any by its inode.
        sh("ip", ["netns", "pids", ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean).forEach((p) => killAll([Number(p)]));
        sh("ip", ["netns", "del", ns], { allowFail: true });
    }
    const links = sh("ip", ["-o", "link", "show"], { allowFail: true }).stdout;
    for (const m of links.matchAll(/^\d+: ([^:@\s]+)/gm)) {
        if (m[1] === n.bridge || m[1].startsWith(n.vethPrefix) || m[1].startsWith(`osl${slot}p`)) sh("ip", ["link", "del", m[1]], { allowFail: true });
    }
    for (const rule of ourRules(n.comment)) sh("iptables", ruleArgv(rule.replace(/^-A /, "-D ")), { allowFail: true });
    for (const dir of [n.runDir, workDir ?? path.join("/var/tmp/opscenter-lab", String(slot))]) {
        unmountUnder(dir);
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const stillNs = fs.existsSync("/var/run/netns") ? fs.readdirSync("/var/run/netns").filter((x) => x.startsWith(n.netnsPrefix)) : [];
    if (stillNs.length > 0) problems.push(`namespaces left: ${stillNs.join(" ")}`);
    if (ourRules(n.comment).length > 0) problems.push(`iptables rules left: ${ourRules(n.comment).join("; ")}`);
    return problems;
}

/** Takes a free slot: an atomic mkdir of its lock; a slot whose owner died is cleaned and taken over. */
export function claimSlot(): number {
    fs.mkdirSync(RUN_ROOT, { recursive: true });
    for (let slot = 0; slot < SLOTS; slot++) {
        const lock = slotNames(slot).lock;
        try {
            fs.mkdirSync(lock);
        } catch {
            let owner = 0;
            try {
                owner = Number(fs.readFileSync(path.join(lock, "owner"), "utf8"));
            } catch {
                // a lock without owner: being written, or its writer died at once; leave it unless old
                const age = Date.now() - fs.statSync(lock).mtimeMs;
                if (age < 60_000) continue;
            }
            if (owner > 0 && alive(owner)) continue;
            cleanSlot(slot);
            fs.rmSync(lock, { recursive: true, force: true });
            try {
                fs.mkdirSync(lock);
            } catch {
                continue;
            }
        }
        fs.writeFileSync(path.join(lock, "owner"), String(process.pid));
        return slot;
    }
    throw new Error(`no free lab slot under ${RUN_ROOT} (all ${SLOTS} owned by live processes)`);
}


/**
 * What a reboot resets in a host's network namespace, done to a killed host before restoreHost starts its engine
 * again: every netfilter rule and chain (Docker's NAT for published ports, its filter chains) and every interface but
 * lo and eth0 (docker0, docker_gwbridge, container veths). A killed host's namespace otherwise keeps them: the new
 * engine could not remove the old endpoints ("Unable to complete atomic operation, key modified") and the old
 * DNAT rule for a host-mode port, first in the chain, sent every connection to the dead container's address. Found on
 * the Swarm bench (2026-12-07): the Redis replica on a restored data host was unreachable at its host port for
 * 90 s, so a later failover's new master had no replica and refused writes (NOREPLICAS) for 42 s. The host's own
 * configuration (eth0, its addresses and routes) stays, as the instance's network interface does.
 */
export function rebootNetns(netns: string): void {
    const inNs = (cmd: string, args: string[]) => sh("nsenter", [`--net=/var/run/netns/${netns}`, "--", cmd, ...args], { allowFail: true });
    for (const table of ["filter", "nat", "mangle", "raw"]) {
        inNs("iptables", ["-t", table, "-F"]);
        inNs("iptables", ["-t", table, "-X"]);
    }
    for (const chain of ["INPUT", "FORWARD", "OUTPUT"]) inNs("iptables", ["-P", chain, "ACCEPT"]);
    const links = sh("ip", ["-n", netns, "-o", "link", "show"]).stdout.split("\n").map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((x): x is string => !!x);
    for (const link of links.filter((l) => l !== "lo" && l !== "eth0")) sh("ip", ["-n", netns, "link", "del", link], { allowFail: true });
}
