/**
 * VIP scenario: two network namespaces (`ocvip-<id>-a`, `ocvip-<id>-b`) joined by a veth pair, each running the real
 * keepalived from the *rendered* keepalived.conf, auth include file and notify_master.sh.
 *
 * What is remapped for the test, through the renderer inputs only: the interface (the veth), the node addresses
 * (10.250.0.1/.2, inside the namespaces only), a test VIP in `virtual_ipaddress` (empty in AWS), script_user `nobody`
 * (production: keepalived_script), file paths in a scratch dir, the aws CLI (a recording stub) and the IMDS endpoint.
 * Priorities, advert_int, nopreempt, unicast, auth and the chk_traefik command are the production ones.
 *
 * In each namespace a small node process plays Traefik's ping (127.0.0.1:8082/ping, checked by the rendered
 * `curl` command of chk_traefik) and another plays IMDSv2 (127.0.0.1:8083: PUT token, GET instance-id with it).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import {
    KEEPALIVED_DEFAULTS,
    renderKeepalivedAuth,
    renderKeepalivedConf,
    renderNotifyMaster,
} from "../../renderers/keepalived";
import { Daemon, requireBinaries, requireRoot, run, scratchDir, sleep, startDaemon, stopDaemon, waitFor } from "./support";

export const VIP = "10.250.0.100";
export const ALLOCATION_ID = "eipalloc-0ab12cd34ef567890";
export const REGION = "us-east-1";
const SCRIPT_USER = "nobody";
const IMDS_PORT = 8083;

/** One edge host of the scenario. */
export interface VipNode {
    readonly name: "a" | "b";
    readonly ns: string;
    readonly dev: string;
    readonly ip: string;
    readonly priority: number;
    readonly instanceId: string;
    readonly confFile: string;
    readonly authFile: string;
    readonly pidFile: string;
    readonly vrrpPidFile: string;
    readonly logFile: string;
    keepalived?: Daemon;
    ping?: Daemon;
    imds?: Daemon;
}

export interface VipClusterOptions {
    /** VRRP passwords of node a and b (the same unless testing a mismatch). */
    readonly authPasses?: readonly [string, string];
    /** Start keepalived with -d (dumps the parsed configuration, password included, to its log). */
    readonly dumpConfig?: boolean;
    /** Start keepalived at all (false: only namespaces, fake servers and files). */
    readonly startKeepalived?: boolean;
}

const FAKE_SERVER = `
const http = require("http");
const [mode, port, iid] = process.argv.slice(2);
const token = "tok-" + process.pid;
http.createServer((req, res) => {
    if (mode === "ping") { res.statusCode = req.url === "/ping" ? 200 : 404; res.end("OK"); return; }
    if (req.method === "PUT" && req.url === "/latest/api/token" && req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) { res.end(token); return; }
    if (req.method === "GET" && req.url === "/latest/meta-data/instance-id") {
        res.statusCode = req.headers["x-aws-ec2-metadata-token"] === token ? 200 : 401;
        res.end(res.statusCode === 200 ? iid : "");
        return;
    }
    res.statusCode = 404; res.end();
}).listen(Number(port), "127.0.0.1");
`;

export class VipCluster {
    readonly dir: string;
    readonly nodes: readonly [VipNode, VipNode];
    readonly awsCallsFile: string;
    private readonly namespaces: string[] = [];

    private constructor(dir: string, nodes: [VipNode, VipNode]) {
        this.dir = dir;
        this.nodes = nodes;
        this.awsCallsFile = path.join(dir, "aws-calls.log");
    }

    /** Creates the namespaces, the fake servers and the rendered files, then (by default) starts keepalived in both. */
    static async start(opts: VipClusterOptions = {}): Promise<VipCluster> {
        requireRoot("network namespaces and keepalived need CAP_NET_ADMIN");
        requireBinaries({ keepalived: "keepalived", ip: "iproute2", curl: "curl", runuser: "util-linux" });
        const id = randomBytes(2).toString("hex");
        const dir = scratchDir("vip");
        const mk = (name: "a" | "b", ip: string, priority: number): VipNode => ({
            name,
            ns: `ocvip-${id}-${name}`,
            dev: `ocvip${id}${name}`,
            ip,
            priority,
            instanceId: `i-0${name.repeat(16)}`,
            confFile: path.join(dir, `keepalived-${name}.conf`),
            authFile: path.join(dir, `auth-${name}.conf`),
            pidFile: path.join(dir, `keepalived-${name}.pid`),
            vrrpPidFile: path.join(dir, `vrrp-${name}.pid`),
            logFile: path.join(dir, `keepalived-${name}.log`),
        });
        const [pa, pb] = KEEPALIVED_DEFAULTS.priorities;
        const c = new VipCluster(dir, [mk("a", "10.250.0.1", pa), mk("b", "10.250.0.2", pb)]);
        try {
            await c.setUp(opts);
        } catch (e) {
            await c.stop();
            throw e;
        }
        return c;
    }

    private async setUp(opts: VipClusterOptions): Promise<void> {
        const [a, b] = this.nodes;
        for (const n of this.nodes) {
            run("ip", ["netns", "add", n.ns]);
            this.namespaces.push(n.ns);
        }
        // Created inside the namespaces directly: nothing is added to the host's own network namespace.
        run("ip", ["-n", a.ns, "link", "add", a.dev, "type", "veth", "peer", "name", b.dev, "netns", b.ns]);
        for (const n of this.nodes) {
            run("ip", ["-n", n.ns, "addr", "add", `${n.ip}/24`, "dev", n.dev]);
            run("ip", ["-n", n.ns, "link", "set", n.dev, "up"]);
            run("ip", ["-n", n.ns, "link", "set", "lo", "up"]);
        }

        // Fake Traefik ping and IMDSv2, one process each per namespace.
        const server = path.join(this.dir, "fake-edge.js");
        fs.writeFileSync(server, FAKE_SERVER);
        for (const n of this.nodes) {
            n.ping = startDaemon(`ping-${n.name}`, process.execPath, [server, "ping", "8082"], path.join(this.dir, `ping-${n.name}.log`), { netns: n.ns });
            n.imds = startDaemon(`imds-${n.name}`, process.execPath, [server, "imds", String(IMDS_PORT), n.instanceId], path.join(this.dir, `imds-${n.name}.log`), { netns: n.ns });
        }
        for (const n of this.nodes) {
            await waitFor(`fake servers in ${n.ns}`, () =>
                run("curl", ["-fsS", "--max-time", "1", KEEPALIVED_DEFAULTS.pingUrl], { netns: n.ns, allowFail: true }).code === 0 &&
                run("curl", ["-sS", "--max-time", "1", "-o", "/dev/null", `http://127.0.0.1:${IMDS_PORT}/`], { netns: n.ns, allowFail: true }).code === 0,
                { timeoutMs: 10_000, intervalMs: 100 });
        }

        // Recording stub in place of the aws CLI (test only), writable by the script user.
        const aws = path.join(this.dir, "aws");
        fs.writeFileSync(aws, `#!/bin/sh\necho "$*" >> '${this.awsCallsFile}'\necho '{"AssociationId": "eipassoc-0test"}'\n`, { mode: 0o755 });
        fs.writeFileSync(this.awsCallsFile, "", { mode: 0o644 });
        run("chown", [SCRIPT_USER, this.awsCallsFile]);

        const notify = path.join(this.dir, "notify_master.sh");
        fs.writeFileSync(notify, renderNotifyMaster({
            allocationId: ALLOCATION_ID,
            region: REGION,
            awsCli: aws,
            imdsEndpoint: `http://127.0.0.1:${IMDS_PORT}`,
            retryDelaySeconds: 1,
        }), { mode: 0o755 });

        const shared = randomPass();
        const passes = opts.authPasses ?? [shared, shared];
        this.nodes.forEach((n, i) => {
            fs.writeFileSync(n.authFile, renderKeepalivedAuth(passes[i]), { mode: 0o600 });
            fs.writeFileSync(n.confFile, this.renderConf(n, notify));
        });
        if (opts.startKeepalived ?? true) {
            for (const n of this.nodes) this.startKeepalived(n, opts.dumpConfig ?? false);
        }
    }

    /** The rendered keepalived.conf for `n`, with the test's interface, addresses, VIP and paths. */
    renderConf(n: VipNode, notifyPath = path.join(this.dir, "notify_master.sh"), authFile = n.authFile): string {
        return renderKeepalivedConf({
            nodes: this.nodes.map((x) => ({ name: `edge-${x.name}`, ip: x.ip, priority: x.priority })),
            self: `edge-${n.name}`,
            interface: n.dev,
            scriptUser: SCRIPT_USER,
            authFile,
            notifyMasterPath: notifyPath,
            virtualIpAddresses: [`${VIP}/24`],
        });
    }

    /** keepalived's command line for node `n` (VRRP only, no fork, console log, pid files in the scratch dir). */
    keepalivedArgs(n: VipNode, confFile = n.confFile, dump = false): string[] {
        return ["--dont-fork", "--log-console", "--no-syslog", "--log-detail", "--vrrp", ...(dump ? ["--dump-conf"] : []),
            "-f", confFile, "--pid", n.pidFile, "--vrrp_pid", n.vrrpPidFile];
    }

    startKeepalived(n: VipNode, dump = false): Daemon {
        n.keepalived = startDaemon(`keepalived-${n.name}`, "keepalived", this.keepalivedArgs(n, n.confFile, dump), n.logFile, { netns: n.ns });
        return n.keepalived;
    }

    /** True when node `n` has the VIP on its interface. */
    hasVip(n: VipNode): boolean {
        const r = run("ip", ["-n", n.ns, "-4", "-o", "addr", "show", "dev", n.dev], { allowFail: true, timeoutMs: 5_000 });
        return r.stdout.includes(` ${VIP}/`);
    }

    holders(): VipNode[] {
        return this.nodes.filter((n) => this.hasVip(n));
    }

    /** Waits until exactly one node holds the VIP, stays so for 1.5 s, and the peer is BACKUP; returns the master. */
    async waitForMaster(timeoutMs = 20_000): Promise<VipNode> {
        return waitFor("one stable VRRP master", async () => {
            const h = this.holders();
            if (h.length !== 1) return undefined;
            await sleep(1_500);
            const again = this.holders();
            const other = this.other(h[0]);
            const backup = fs.readFileSync(other.logFile, "utf8").includes("Entering BACKUP STATE");
            return again.length === 1 && again[0] === h[0] && backup ? h[0] : undefined;
        }, { timeoutMs, intervalMs: 100, attempts: 200 });
    }

    other(n: VipNode): VipNode {
        return n === this.nodes[0] ? this.nodes[1] : this.nodes[0];
    }

    /** Crash: SIGKILL keepalived's main and VRRP child processes of `n` (by their pid files). Returns the kill time. */
    crash(n: VipNode): number {
        const pids = [n.vrrpPidFile, n.pidFile].map((f) => Number(fs.readFileSync(f, "utf8").trim()));
        if (pids.some((p) => !Number.isInteger(p) || p <= 1)) throw new Error(`bad pid files for ${n.ns}: ${pids.join(", ")}`);
        const t = performance.now();
        for (const p of pids) process.kill(p, "SIGKILL");
        return t;
    }

    /** Polls `ip addr` in `n`'s namespace every 50 ms until it holds the VIP; returns the time it was seen. */
    async waitVipOn(n: VipNode, timeoutMs = 15_000): Promise<number> {
        const deadline = performance.now() + timeoutMs;
        for (let i = 0; i < 10_000 && performance.now() < deadline; i++) {
            if (this.hasVip(n)) return performance.now();
            await sleep(50);
        }
        throw new Error(`VIP ${VIP} did not appear on ${n.ns} within ${timeoutMs} ms`);
    }

    /** Lines the aws stub recorded (one per call). */
    awsCalls(): string[] {
        return fs.readFileSync(this.awsCallsFile, "utf8").split("\n").filter((l) => l.length > 0);
    }

    /** Waits for an associate-address call naming `n`'s instance id. */
    async waitForAssociation(n: VipNode, timeoutMs = 15_000): Promise<string> {
        return waitFor(`associate-address for ${n.instanceId}`, () =>
            this.awsCalls().find((l) => l.includes(`--instance-id ${n.instanceId}`)), { timeoutMs, intervalMs: 100 });
    }

    log(n: VipNode): string {
        return fs.existsSync(n.logFile) ? fs.readFileSync(n.logFile, "utf8") : "";
    }

    /** Stops every process this cluster started (by PID) and deletes its namespaces. Safe to call twice. */
    async stop(): Promise<void> {
        for (const n of this.nodes) {
            for (const d of [n.keepalived, n.ping, n.imds]) if (d) await stopDaemon(d);
        }
        while (this.namespaces.length > 0) {
            const ns = this.namespaces.pop()!;
            run("ip", ["netns", "del", ns], { allowFail: true });
        }
    }
}

/** A fresh 8-character [A-Za-z0-9] password, as @pulumi/random would produce. */
export function randomPass(): string {
    const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return Array.from(randomBytes(8), (b) => abc[b % abc.length]).join("");
}
