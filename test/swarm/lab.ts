/**
 * A real multi-node Docker Swarm of a plan's hosts on this one machine.
 *
 * Each host is one `dockerd` (Debian's docker.io) in its own network namespace (`ip netns add`), entered with
 * `nsenter --net` (not `ip netns exec`, which remounts /sys and hides the cgroups), under
 * `unshare --uts --mount` so that its hostname is the plan's hostname and the mounts it makes (overlay2 layers,
 * network namespaces of overlays, containerd's shim sockets) die with it. Each has its own `--data-root`,
 * `--exec-root`, `--pidfile`, unix socket and `--bip`, and its own iptables (one per namespace). The namespaces
 * are joined by one Linux bridge in the root namespace (a veth pair each, addresses in 10.231.<slot>.0/24);
 * bridge-to-bridge traffic is accepted in the root namespace's FORWARD (and DOCKER-USER, when a root dockerd made
 * one), since br_netfilter sends bridged frames through it.
 *
 * The Swarm is formed by the hosts' own cloud-init scripts, taken verbatim from the plan's user data
 * (planHosts.ts): `ops-swarm-bootstrap` runs on every host (init on app-0, then managers, then workers) and the
 * managers' `ops-swarm-label` pass applies the published labels. Their AWS calls (SSM Parameter Store, EC2
 * associate-address) and IMDS lookups are answered by the stubs in cloud-stubs/ from files of this lab.
 *
 * Several labs may run at once (other test processes): each takes a free slot 0-15 (an atomic mkdir under
 * /run/opscenter-lab), which names everything it creates (`osl<slot>...`) so that stop(), or the next lab that
 * finds the slot's owner dead, removes exactly those things.
 *
 * Facts of this kernel (6.18, no modules): no IPVS (CONFIG_IP_VS unset) so Swarm's VIP load balancing and the
 * ingress routing mesh cannot work here (services need endpoint_mode dnsrr and published ports in host mode);
 * no ESP (CONFIG_INET_ESP unset) so encrypted overlays cannot carry traffic. See LAB-FACTS.md.
 */
import { ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { alive, claimSlot, cleanSlot, hostPids, killAll, rebootNetns, RUN_ROOT, sh, sleep, slotNames } from "./labSystem";
import { startResolver } from "./labResolver";
import type { PlanHost } from "./planHosts";

export interface LabNode extends PlanHost {
    /** Unix socket path of its dockerd. */
    socket: string;
    /** Its IP on the lab bridge (the Swarm advertise address). */
    address: string;
    /** Its network namespace (under /var/run/netns). */
    netns: string;
    /** PID of its dockerd (changes on restoreHost). */
    pid: number;
}

export interface Lab {
    readonly nodes: LabNode[];
    /** The lab's slot (0-15): names `osl<slot>-*`, subnet 10.231.<slot>.0/24. */
    readonly slot: number;
    /** Address of the root namespace on the lab bridge (reaches every node). */
    readonly gateway: string;
    /** How long start-up took: dockerds answering, Swarm formed by the bootstrap scripts, labels applied (ms). */
    readonly timings: { dockerdMs: number; swarmMs: number; labelMs: number };
    /** Socket of a live manager (skips killed ones). */
    managerSocket(): string;
    /**
     * The host dies. "crash" (default): its dockerd, containerd, shims and every container SIGKILLed, and its link
     * to the bridge cut (a dead machine answers nothing). "partition": only the link cut; its processes live on.
     */
    killHost(hostname: string, how?: "crash" | "partition"): Promise<void>;
    /** Brings a killed host back (same data-root; its bootstrap runs again, as at boot), rejoined as before. */
    restoreHost(hostname: string): Promise<void>;
    /**
     * Replaces a host as a new instance would (killed first if alive): a new instance id, an empty root volume (its
     * Docker data-root removed: no images, no Swarm state), the same hostname, address and plan role; its cloud-init
     * bootstrap runs, then the managers' labelling pass (which removes the Down node it superseded). The caller
     * loads its images (a new host pulls them).
     */
    replaceHost(hostname: string, loadImages: (node: LabNode) => Promise<void>): Promise<void>;
    /** Stops and removes everything the lab started. Idempotent; also registered on process exit. */
    stop(): Promise<void>;
}

export interface LabOptions {
    hosts: PlanHost[];
    /** Where data-roots and logs go (default /var/tmp/opscenter-lab/<slot>); removed by stop(). */
    workDir?: string;
    /** Keep workDir (logs) after stop() for a post-mortem. Default: env KEEP_SWARM_LAB=1. */
    keepWorkDir?: boolean;
}

const STUBS = path.join(__dirname, "cloud-stubs");
const DOCKERD_START_MS = 60_000;
/** Bound on one host's bootstrap: a manager join that times out goes on in the background and the script waits for it. */
const BOOTSTRAP_MS = 600_000;

export { hostPids, slotNames, cleanSlot } from "./labSystem";

function dockerEnv(socket: string): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: `unix://${socket}` };
}

/** `docker -H unix://socket args` (bounded), stdout trimmed. */
export function docker(socket: string, args: string[], opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): string {
    return sh("docker", args, { ...opts, env: dockerEnv(socket) }).stdout.trim();
}

interface HostState {
    node: LabNode;
    index: number;
    child?: ChildProcess;
    runDir: string;
    dataDir: string;
    killed: boolean;
    /** Instances this host has had before the current one (replaceHost). */
    generation: number;
}

const live = new Set<{ stopSync(): void }>();
let hooked = false;
function hookExit(): void {
    if (hooked) return;
    hooked = true;
    process.on("exit", () => {
        for (const l of [...live]) l.stopSync();
    });
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(sig, () => {
            for (const l of [...live]) l.stopSync();
            process.kill(process.pid, sig);
        });
    }
}

export async function startLab(opts: LabOptions): Promise<Lab> {
    if (typeof process.getuid === "function" && process.getuid() !== 0) throw new Error("the Swarm lab must run as root (network namespaces, dockerd)");
    for (const [bin, pkg] of [["dockerd", "docker.io"], ["docker", "docker.io"], ["nsenter", "util-linux"], ["unshare", "util-linux"], ["ip", "iproute2"], ["iptables", "iptables"]]) {
        if (sh("sh", ["-c", `command -v ${bin}`], { allowFail: true }).code !== 0) throw new Error(`missing ${bin}: apt-get install -y ${pkg} (scripts/setup-swarm.sh does it)`);
    }
    if (opts.hosts.length === 0 || opts.hosts.length > 15) throw new Error(`lab hosts: ${opts.hosts.length}; want 1 to 15`);
    if (opts.hosts.filter((h) => h.initManager).length !== 1) throw new Error("lab hosts: want exactly one init manager");
    hookExit();
    const slot = claimSlot();
    const n = slotNames(slot);
    const workDir = opts.workDir ?? path.join("/var/tmp/opscenter-lab", String(slot));
    const keep = opts.keepWorkDir ?? process.env.KEEP_SWARM_LAB === "1";
    const ssmDir = path.join(n.runDir, "ssm");
    const states: HostState[] = [];
    const timings = { dockerdMs: 0, swarmMs: 0, labelMs: 0 };
    let stopped = false;
    let resolver: ChildProcess | undefined;

    const stopSync = (): void => {
        if (stopped) return;
        stopped = true;
        live.delete(handle);
        if (resolver?.pid && resolver.exitCode === null) killAll([resolver.pid]);
        const pids = states.flatMap((s) => (s.child?.pid ? [s.child.pid] : []));
        const problems = cleanSlot(slot, keep ? path.join(n.runDir, "none") : workDir, pids);
        if (!keep) fs.rmSync(workDir, { recursive: true, force: true });
        fs.rmSync(n.lock, { recursive: true, force: true });
        if (problems.length > 0) process.stderr.write(`swarm lab ${slot}: cleanup left: ${problems.join("; ")}\n`);
    };
    const handle = { stopSync };
    live.add(handle);

    try {
        fs.mkdirSync(ssmDir, { recursive: true, mode: 0o700 });
        // A slot's work directory left by an earlier run (KEEP_SWARM_LAB=1, for a post-mortem) holds that run's
        // engines and Swarm state: new nodes must start empty, as fresh hosts do, so it goes now that the slot is ours.
        if (!opts.workDir) fs.rmSync(workDir, { recursive: true, force: true });
        fs.mkdirSync(workDir, { recursive: true });
        // The bridge, its address (the root namespace reaches the nodes through it) and our FORWARD accept.
        sh("ip", ["link", "add", n.bridge, "type", "bridge"]);
        sh("ip", ["addr", "add", `${n.gateway}/24`, "dev", n.bridge]);
        sh("ip", ["link", "set", n.bridge, "up"]);
        resolver = await startResolver(n.gateway, path.join(workDir, "resolver.log"));
        const accept = ["-i", n.bridge, "-o", n.bridge, "-m", "comment", "--comment", n.comment, "-j", "ACCEPT"];
        sh("iptables", ["-I", "FORWARD", "1", ...accept]);
        if (sh("iptables", ["-S", "DOCKER-USER"], { allowFail: true }).code === 0) sh("iptables", ["-I", "DOCKER-USER", "1", ...accept]);
        // /run/containerd masked in each host's mount namespace: dockerd then starts its own containerd
        // (it uses a system one whenever /run/containerd/containerd.sock exists).
        fs.mkdirSync("/run/containerd", { recursive: true });

        opts.hosts.forEach((h, index) => {
            const ns = n.netns(h.hostname);
            const runDir = path.join(n.runDir, h.hostname);
            const dataDir = path.join(workDir, h.hostname);
            fs.mkdirSync(runDir, { recursive: true });
            fs.mkdirSync(dataDir, { recursive: true });
            sh("ip", ["netns", "add", ns]);
            sh("ip", ["link", "add", n.veth(index), "type", "veth", "peer", "name", n.vethPeer(index)]);
            sh("ip", ["link", "set", n.vethPeer(index), "netns", ns]);
            sh("ip", ["link", "set", n.veth(index), "master", n.bridge, "up"]);
            const inNs = (args: string[]) => sh("ip", ["-n", ns, ...args]);
            inNs(["link", "set", "lo", "up"]);
            inNs(["link", "set", n.vethPeer(index), "name", "eth0"]);
            inNs(["addr", "add", `${n.address(index)}/24`, "dev", "eth0"]);
            inNs(["link", "set", "eth0", "up"]);
            const node: LabNode = { ...h, socket: path.join(runDir, "docker.sock"), address: n.address(index), netns: ns, pid: 0 };
            states.push({ node, index, runDir, dataDir, killed: false, generation: 0 });
        });

        let t = Date.now();
        await Promise.all(states.map((s) => startDockerd(s, n.bip(s.index), n.gateway)));
        timings.dockerdMs = Date.now() - t;
        t = Date.now();
        // Boot order as the hosts' scripts expect it (they poll for what is missing, so this only saves time):
        // the init manager, then the managers one by one (raft likes it), then the workers together.
        const env = (s: HostState): NodeJS.ProcessEnv => labEnv(s, ssmDir, slot);
        const init = states.find((s) => s.node.initManager)!;
        await runBootstrap(init, env(init));
        for (const s of states.filter((x) => x.node.manager && !x.node.initManager)) await runBootstrap(s, env(s));
        await Promise.all(states.filter((x) => !x.node.manager).map((s) => runBootstrap(s, env(s))));
        timings.swarmMs = Date.now() - t;
        t = Date.now();
        await label(states, ssmDir, slot);
        timings.labelMs = Date.now() - t;
    } catch (e) {
        stopSync();
        throw e;
    }

    const byName = (hostname: string): HostState => {
        const s = states.find((x) => x.node.hostname === hostname);
        if (!s) throw new Error(`lab: no host ${hostname}; have ${states.map((x) => x.node.hostname).join(", ")}`);
        return s;
    };
    async function killHost(hostname: string, how: "crash" | "partition" = "crash"): Promise<void> {
        const s = byName(hostname);
        sh("ip", ["link", "set", n.veth(s.index), "down"]);
        if (how === "crash") {
            const left = killAll(hostPids(s.runDir, s.child?.pid ? [s.child.pid] : []));
            if (left.length > 0) throw new Error(`lab: ${hostname}: processes survived SIGKILL: ${left.join(" ")}`);
        }
        s.killed = true;
    }
    return {
        nodes: states.map((s) => s.node),
        slot,
        gateway: n.gateway,
        timings,
        managerSocket(): string {
            for (const s of states) {
                if (!s.node.manager || s.killed) continue;
                const r = sh("docker", ["info", "--format", "{{.Swarm.ControlAvailable}}"], { allowFail: true, timeoutMs: 10_000, env: dockerEnv(s.node.socket) });
                if (r.code === 0 && r.stdout.trim() === "true") return s.node.socket;
            }
            throw new Error("lab: no live manager");
        },
        killHost,
        async restoreHost(hostname: string): Promise<void> {
            const s = byName(hostname);
            if (!s.killed) return;
            sh("ip", ["link", "set", n.veth(s.index), "up"]);
            if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null || !alive(s.child.pid!)) {
                rebootNetns(s.node.netns);
                clearRunState(s);
                await startDockerd(s, n.bip(s.index), n.gateway);
                await runBootstrap(s, env0(s));
            }
            s.killed = false;
            await waitReady(states, s.node.hostname);
        },
        async replaceHost(hostname: string, loadImages: (node: LabNode) => Promise<void>): Promise<void> {
            const s = byName(hostname);
            if (!s.killed) await killHost(hostname);
            fs.rmSync(path.join(s.dataDir, "docker"), { recursive: true, force: true });
            s.generation++;
            rebootNetns(s.node.netns);
            clearRunState(s);
            sh("ip", ["link", "set", n.veth(s.index), "up"]);
            await startDockerd(s, n.bip(s.index), n.gateway);
            await loadImages(s.node);
            await runBootstrap(s, env0(s));
            s.killed = false;
            await label(states, ssmDir, slot);
            await waitReady(states, s.node.hostname);
        },
        async stop(): Promise<void> {
            stopSync();
        },
    };

    function env0(s: HostState): NodeJS.ProcessEnv {
        return labEnv(s, ssmDir, slot);
    }
}

/**
 * A rebooted or new host starts with an empty /run (a tmpfs): the dead engine's exec-root and pid file go. Kept, they
 * name PIDs of SIGKILLed processes: once the machine reuses such a PID, dockerd takes it for its live containerd
 * ("failed to start containerd: timeout", seen on a third replacement of one host) or for a running dockerd.
 */
function clearRunState(s: HostState): void {
    fs.rmSync(path.join(s.runDir, "exec"), { recursive: true, force: true });
    fs.rmSync(path.join(s.runDir, "docker.pid"), { force: true });
}

function labEnv(s: HostState, ssmDir: string, slot: number): NodeJS.ProcessEnv {
    return {
        PATH: `${STUBS}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
        DOCKER_HOST: `unix://${s.node.socket}`,
        LAB_SSM: ssmDir,
        LAB_AWS_LOG: path.join(s.dataDir, "cloud-calls.log"),
        LAB_ADDR: s.node.address,
        LAB_INSTANCE_ID: "i-" + createHash("sha256").update(`${slot}/${s.node.hostname}${s.generation ? `/${s.generation}` : ""}`).digest("hex").slice(0, 17),
        // IMDS answers the bootstrap reads to find its VPC (renderers/cloudInit.ts mark_initialised): one VPC per lab.
        LAB_MAC: "0a:" + (createHash("sha256").update(`mac/${slot}/${s.node.hostname}`).digest("hex").slice(0, 10).match(/../g) ?? []).join(":"),
        LAB_VPC_ID: "vpc-" + createHash("sha256").update(`vpc/${slot}`).digest("hex").slice(0, 17),
        HOME: s.runDir,
    };
}

/**
 * argv of a dockerd in its own mount namespace (and network namespace and hostname when given). In that namespace
 * /run is a fresh tmpfs (with /run/opscenter-lab bound back in, where the lab's sockets live), so that the engine's
 * /var/run/docker.sock, its containerd (dockerd uses a system containerd whenever /run/containerd/containerd.sock
 * exists) and its other /run files are its own; /etc/docker (the engine key) is private too. Its mounts die with it;
 * inside, / is made shared again (a new peer group) as systemd makes it on a real host.
 */
export function dockerdCommand(opts: { configFile: string; netns?: string; hostname?: string }): [string, string[]] {
    const script = [
        "set -e",
        "t=$(mktemp -d /tmp/opscenter-lab-run.XXXXXX)",
        'mount -n -t tmpfs -o mode=0755,size=64m opscenter-lab-run "$t"',
        'mkdir -p "$t/opscenter-lab" "$t/containerd" "$t/lock" "$t/docker"',
        `mount -n --rbind ${RUN_ROOT} "$t/opscenter-lab"`,
        'mount -n --move "$t" /run',
        'rmdir "$t"',
        "mount -n -t tmpfs -o size=1m,mode=0700 opscenter-lab-etc-docker /etc/docker",
        // As on a systemd host, / is a shared mount, so a bind with rslave propagation (node-exporter's /:/host) is
        // allowed; the peer group is new to this namespace, so nothing propagates back to the machine.
        "mount -n --make-rshared /",
        ...(opts.hostname ? [`hostname ${opts.hostname}`] : []),
        `exec dockerd --config-file ${opts.configFile}`,
    ].join("\n");
    const inner = ["unshare", ...(opts.hostname ? ["--uts"] : []), "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script];
    return opts.netns ? ["nsenter", [`--net=/var/run/netns/${opts.netns}`, "--", ...inner]] : [inner[0], inner.slice(1)];
}

/** The keys the lab adds to a host's daemon.json: where its engine keeps its state and listens (one machine, many
 * engines), its bridge, its log level and storage driver, its resolver. Nothing else: every other key is the plan's. */
export const LAB_DAEMON_KEYS = ["data-root", "exec-root", "pidfile", "hosts", "bip", "log-level", "storage-driver", "dns"] as const;

/** The host's daemon.json (what its cloud-init writes) plus the lab's own keys. A lab key that is not in
 * LAB_DAEMON_KEYS, or one the host's daemon.json already sets (the lab would silently override the plan), fails by name. */
export function labDaemonConfig(host: Readonly<Record<string, unknown>>, lab: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const allowed: readonly string[] = LAB_DAEMON_KEYS;
    const foreign = Object.keys(lab).filter((k) => !allowed.includes(k));
    if (foreign.length) throw new Error(`lab daemon.json: ${foreign.join(", ")} not among the lab's own keys (${LAB_DAEMON_KEYS.join(", ")})`);
    const clash = Object.keys(lab).filter((k) => k in host);
    if (clash.length) throw new Error(`lab daemon.json: the host's cloud-init sets ${clash.map((k) => `${k}=${JSON.stringify(host[k])}`).join(", ")}, which the lab would override`);
    return { ...host, ...lab };
}

/** Starts (or restarts) one host's dockerd and waits for its API. */
async function startDockerd(s: HostState, bip: string, gateway: string): Promise<void> {
    const config = labDaemonConfig(s.node.cloudInit.daemonJson, {
        "data-root": path.join(s.dataDir, "docker"),
        "exec-root": path.join(s.runDir, "exec"),
        pidfile: path.join(s.runDir, "docker.pid"),
        // The second socket is the host's /var/run/docker.sock, private to its mount namespace (services bind-mount it).
        hosts: [`unix://${s.node.socket}`, "unix:///var/run/docker.sock"],
        bip,
        "log-level": "warn",
        // userland-proxy stays the engine's default (true), as on the hosts (cloud-init's daemon.json leaves it): with
        // it off, a container reaching its own host's address on a host-mode port (Sentinel on the master's host,
        // asking the master at the host's private address) gets no hairpin NAT and times out (lab run 2026-11-29).
        "storage-driver": "overlay2",
        // The node's resolver, which Docker's embedded DNS asks for every name that is not a Swarm service's (and, in
        // endpoint mode dnsrr, for a service with no task yet, or whose tasks died with their host). The machine's
        // resolver is unreachable from the namespaces, and with nothing answering a container's lookup waits out
        // glibc's 10 s (labResolver.ts says where that cost the lab's failovers). The lab's resolver on the bridge
        // answers NXDOMAIN at once, as the VPC resolver does in the deployment. Lab infrastructure, not the plan:
        // cloud-init sets no "dns".
        dns: [gateway],
    });
    const configFile = path.join(s.runDir, "daemon.json");
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    fs.rmSync(s.node.socket, { force: true });
    const log = fs.openSync(path.join(s.dataDir, "dockerd.log"), "a");
    const child = spawn(...dockerdCommand({ configFile, netns: s.node.netns, hostname: s.node.hostname }), { detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`lab: could not start dockerd of ${s.node.hostname}`);
    child.unref();
    s.child = child;
    s.node.pid = child.pid;
    const deadline = Date.now() + DOCKERD_START_MS;
    for (let i = 0; i < 600 && Date.now() < deadline; i++) {
        if (child.exitCode !== null || child.signalCode !== null) break;
        if (fs.existsSync(s.node.socket) && sh("docker", ["version", "--format", "{{.Server.Version}}"], { allowFail: true, timeoutMs: 5_000, env: dockerEnv(s.node.socket) }).code === 0) return;
        await sleep(200);
    }
    const tail = fs.readFileSync(path.join(s.dataDir, "dockerd.log"), "utf8").split("\n").slice(-20).join("\n");
    throw new Error(`lab: dockerd of ${s.node.hostname} did not answer on ${s.node.socket} within ${DOCKERD_START_MS} ms (exit ${child.exitCode ?? child.signalCode}):\n${tail}`);
}

/** Runs the host's own bootstrap script (from its cloud-init) in its network namespace, bounded. */
async function runBootstrap(s: HostState, env: NodeJS.ProcessEnv): Promise<void> {
    const file = path.join(s.runDir, "ops-swarm-bootstrap");
    fs.writeFileSync(file, s.node.cloudInit.bootstrap, { mode: 0o700 });
    const out = path.join(s.dataDir, "bootstrap.log");
    await new Promise<void>((resolve, reject) => {
        const log = fs.openSync(out, "a");
        const child = spawn("nsenter", [`--net=/var/run/netns/${s.node.netns}`, "--", "/bin/bash", file], { env, stdio: ["ignore", log, log], detached: true });
        fs.closeSync(log);
        const timer = setTimeout(() => {
            try {
                process.kill(-child.pid!, "SIGKILL");
            } catch {
                // gone
            }
        }, BOOTSTRAP_MS);
        child.on("exit", (code, sig) => {
            clearTimeout(timer);
            if (code === 0) resolve();
            else reject(new Error(`lab: ${s.node.hostname}'s ops-swarm-bootstrap exited ${code ?? sig}:\n${fs.readFileSync(out, "utf8").split("\n").slice(-15).join("\n")}`));
        });
        child.on("error", reject);
    });
}

/** Runs the managers' labelling pass (from a manager's cloud-init) until every node carries its labels (bounded). */
async function label(states: HostState[], ssmDir: string, slot: number): Promise<void> {
    const mgr = states.find((s) => s.node.initManager)!;
    const file = path.join(mgr.runDir, "ops-swarm-label");
    fs.writeFileSync(file, mgr.node.cloudInit.labeler!, { mode: 0o700 });
    const env = labEnv(mgr, ssmDir, slot);
    let missing: string[] = [];
    for (let i = 0; i < 60; i++) {
        const r = sh("nsenter", [`--net=/var/run/netns/${mgr.node.netns}`, "--", "/bin/bash", file], { env, allowFail: true, timeoutMs: 50_000 });
        fs.appendFileSync(path.join(mgr.dataDir, "labeler.log"), r.stdout + r.stderr);
        const nodes = nodeTable(mgr.node.socket);
        missing = states
            .filter((s) => {
                const have = nodes.find((x) => x.hostname === s.node.hostname && x.status === "ready");
                return !have || Object.entries(s.node.labels).some(([k, v]) => have.labels[k] !== v);
            })
            .map((s) => s.node.hostname);
        if (missing.length === 0) return;
        await sleep(500);
    }
    throw new Error(`lab: nodes not Ready with their labels after 60 labelling passes: ${missing.join(", ")}`);
}

/** The Swarm's nodes as a manager sees them. */
export function nodeTable(socket: string): { id: string; hostname: string; status: string; role: string; availability: string; labels: Record<string, string> }[] {
    const ids = docker(socket, ["node", "ls", "-q"], { timeoutMs: 15_000 }).split("\n").filter(Boolean);
    if (ids.length === 0) return [];
    const raw = JSON.parse(docker(socket, ["node", "inspect", ...ids], { timeoutMs: 15_000 })) as {
        ID: string;
        Description: { Hostname: string };
        Status: { State: string };
        Spec: { Role: string; Availability: string; Labels?: Record<string, string> };
    }[];
    return raw.map((x) => ({ id: x.ID, hostname: x.Description.Hostname, status: x.Status.State, role: x.Spec.Role, availability: x.Spec.Availability, labels: x.Spec.Labels ?? {} }));
}

/** Waits (bounded) until a live manager sees `hostname` Ready. */
async function waitReady(states: HostState[], hostname: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
        for (const s of states) {
            if (!s.node.manager || s.killed) continue;
            try {
                const n = nodeTable(s.node.socket).filter((x) => x.hostname === hostname);
                last = n.map((x) => x.status).join(",");
                if (n.some((x) => x.status === "ready")) return;
            } catch (e) {
                last = String(e);
            }
            break;
        }
        await sleep(500);
    }
    throw new Error(`lab: ${hostname} not Ready within ${timeoutMs} ms (last: ${last})`);
}
