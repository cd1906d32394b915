/**
 * The lab's images. No registry is reachable, so every image the plan references is a local stand-in
 * (swarm-images/<dir>/Dockerfile, see swarm-images/README.md for what each mirrors of its upstream image and
 * where that is written), built FROM a Debian 12 minbase imported with `docker import` from a debootstrap
 * root filesystem (swarm-images/build-base.sh, cached under /var/cache/opscenter-test).
 *
 * Builds run on a builder dockerd of their own (root network namespace, `--bridge=none --iptables=false`, so
 * it touches no firewall; RUN steps use the host network to reach Debian's mirror), whose data-root under
 * /var/cache/opscenter-test/builder keeps the layer cache between runs. Each image is tagged with the EXACT
 * reference the plan uses; each lab node gets, by `docker save | docker load` on its socket, only the images of
 * services whose placement constraints it satisfies.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { OfflinePlan } from "../../offline/engine";
import { CONFIG_KEYS } from "../../config/keys";
import { unwrap } from "../harness";
import type { Lab, LabNode } from "./lab";

export const CACHE = process.env.OPSCENTER_TEST_CACHE ?? "/var/cache/opscenter-test";
export const BASE_TAR = path.join(CACHE, "debian-bookworm-minbase.tar");
/** The imported Debian 12 minbase every stand-in starts FROM. */
export const BASE_IMAGE = "opscenter-test/debian:bookworm";
export const IMAGES_DIR = path.resolve(__dirname, "..", "..", "swarm-images");

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; allowFail?: boolean } = {}) {
    const r = spawnSync(cmd, args, { encoding: "utf8", env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
    const code = r.status ?? -1;
    if (code !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(" ")} exited ${code}${r.error ? ` (${r.error.message})` : ""}: ${(r.stderr || r.stdout || "").trim().slice(-2000)}`);
    return { code, stdout: (r.stdout ?? "").trim(), stderr: r.stderr ?? "" };
}

const dockerAt = (socket: string, args: string[], opts: { timeoutMs?: number; allowFail?: boolean } = {}) =>
    run("docker", args, { ...opts, env: { ...process.env, DOCKER_HOST: `unix://${socket}` } });

/** Builds the cached debootstrap root filesystem when it is missing (swarm-images/build-base.sh). */
export function ensureBaseTar(): string {
    if (!fs.existsSync(BASE_TAR)) run("bash", [path.join(IMAGES_DIR, "build-base.sh")], { timeoutMs: 900_000 });
    return BASE_TAR;
}

/** `docker import`s the Debian base into the engine at `socket` (once: kept when the tag is there). */
export async function importBase(socket: string): Promise<void> {
    if (dockerAt(socket, ["image", "inspect", BASE_IMAGE], { allowFail: true }).code === 0) return;
    const tar = ensureBaseTar();
    await new Promise<void>((resolve, reject) => {
        const child = spawn("docker", ["import", "--change", "CMD [\"bash\"]", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", tar, BASE_IMAGE], {
            env: { ...process.env, DOCKER_HOST: `unix://${socket}` },
            stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
        child.on("exit", (code) => {
            clearTimeout(timer);
            if (code === 0) resolve();
            else reject(new Error(`docker import of ${tar} into ${socket} exited ${code}: ${err}`));
        });
    });
}

/** The image references the plan's config defaults pin (config/keys.ts `*Image` keys). */
export function pinnedImages(): Record<string, string> {
    return Object.fromEntries(CONFIG_KEYS.filter((k) => /Image$/.test(k.key) && typeof k.default === "string").map((k) => [k.key, k.default as string]));
}

/** A service's image and placement constraints as the plan records them. */
export function planServices(plan: OfflinePlan): { name: string; image: string; constraints: string[] }[] {
    return plan.resources
        .filter((r) => r.type === "docker:index/service:Service")
        .map((r) => {
            const spec = unwrap(r.inputs) as { name?: string; taskSpec?: { containerSpec?: { image?: string }; placement?: { constraints?: string[] } } };
            const image = spec.taskSpec?.containerSpec?.image;
            if (typeof image !== "string") throw new Error(`service ${r.name}: taskSpec.containerSpec.image is not a string`);
            return { name: String(spec.name ?? r.name), image, constraints: spec.taskSpec?.placement?.constraints ?? [] };
        });
}

/**
 * True when `node` satisfies every Swarm placement constraint (`==`/`!=` on node.hostname, node.role,
 * node.labels.<k>, node.platform.os): the rules of swarmkit's constraint filter. Anything else throws.
 */
export function satisfies(node: Pick<LabNode, "hostname" | "manager" | "labels">, constraints: readonly string[]): boolean {
    return constraints.every((c) => {
        const m = /^\s*([\w.-]+)\s*(==|!=)\s*(.+?)\s*$/.exec(c);
        if (!m) throw new Error(`placement constraint ${JSON.stringify(c)}: not <key>==<value> or <key>!=<value>`);
        const [, key, op, want] = m;
        let have: string | undefined;
        if (key === "node.hostname") have = node.hostname;
        else if (key === "node.role") have = node.manager ? "manager" : "worker";
        else if (key.startsWith("node.labels.")) have = node.labels[key.slice("node.labels.".length)];
        else if (key === "node.platform.os") have = "linux";
        else throw new Error(`placement constraint ${JSON.stringify(c)}: key ${key} is not one the lab evaluates (node.hostname, node.role, node.labels.*, node.platform.os)`);
        // swarmkit compares case-insensitively for these keys.
        const eq = have !== undefined && have.toLowerCase() === want.toLowerCase();
        return op === "==" ? eq : !eq;
    });
}

/** Image references each node can be asked to run: those of services whose constraints it satisfies. */
export function imagesPerNode(lab: Pick<Lab, "nodes">, plan: OfflinePlan): Map<string, string[]> {
    const services = planServices(plan);
    return new Map(lab.nodes.map((n) => [n.hostname, [...new Set(services.filter((s) => satisfies(n, s.constraints)).map((s) => s.image))].sort()]));
}
