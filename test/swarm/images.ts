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
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { OfflinePlan } from "../../offline/engine";
import { CONFIG_KEYS } from "../../config/keys";
import { unwrap } from "../harness";
import { CACHE, withBuilder } from "./builder";
import type { Lab, LabNode } from "./lab";

export { CACHE, withBuilder };
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
export function imagesPerNode(lab: { nodes: Pick<LabNode, "hostname" | "manager" | "labels">[] }, plan: OfflinePlan): Map<string, string[]> {
    const services = planServices(plan);
    return new Map(lab.nodes.map((n) => [n.hostname, [...new Set(services.filter((s) => satisfies(n, s.constraints)).map((s) => s.image))].sort()]));
}

/** The plan's image references (config/keys.ts defaults) -> their stand-in's build context dir under swarm-images/. */
const DIR_OF_KEY: Record<string, string> = {
    frontendImage: "app",
    backendImage: "app",
    spiloImage: "spilo",
    etcdImage: "etcd",
    haproxyImage: "haproxy",
    redisImage: "redis",
    redisExporterImage: "redis-exporter",
    postgresExporterImage: "postgres-exporter",
    blackboxExporterImage: "blackbox-exporter",
    nodeExporterImage: "node-exporter",
    awsCliImage: "aws-cli",
    socketProxyImage: "socket-proxy",
    traefikImage: "traefik",
    prometheusImage: "prometheus",
    alertmanagerImage: "alertmanager",
};

/** `kubeworkz/ops_center:<role>-<version>` -> role and version (the app stand-in's build args). */
function appArgs(ref: string): Record<string, string> {
    const m = /:(frontend|backend)-(\d+\.\d+\.\d+)$/.exec(ref);
    if (!m) throw new Error(`app image ${ref}: want <repo>:<frontend|backend>-<x.y.z>`);
    return { APP_ROLE: m[1], APP_PORT: m[1] === "frontend" ? "80" : "8084", APP_VERSION: m[2] };
}

/** The backend image one patch version after the plan's: the "new image" of the rolling-update bench. */
export const ROLLOUT_BACKEND_IMAGE = (() => {
    const ref = pinnedImages().backendImage;
    return ref.replace(/-(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string) => `-${a}.${b}.${Number(c) + 1}`);
})();

/** Plan image reference -> `swarm-images/<dir>` of its stand-in. */
export const STAND_INS: Record<string, string> = (() => {
    const pinned = pinnedImages();
    const out: Record<string, string> = {};
    for (const [key, ref] of Object.entries(pinned)) {
        const dir = DIR_OF_KEY[key];
        if (!dir) throw new Error(`config key ${key} (${ref}) has no stand-in image: add one under swarm-images/ and to DIR_OF_KEY`);
        out[ref] = `swarm-images/${dir}`;
    }
    out[ROLLOUT_BACKEND_IMAGE] = "swarm-images/app";
    return out;
})();

/** Images the stand-ins are built FROM (or COPY from), built first: the apt lists layer and the trixie packages. */
export const INTERNAL_IMAGES: Record<string, string> = {
    "opscenter-test/debian-apt:bookworm": "swarm-images/apt-base",
    "opscenter-test/trixie-debs:latest": "swarm-images/trixie-debs",
};

/** Build args of a stand-in (the app's role, port and version; none for the others). */
export function buildArgs(ref: string): Record<string, string> {
    return STAND_INS[ref] === "swarm-images/app" ? appArgs(ref) : {};
}

/** Builds (layer cache: quick when nothing changed) every stand-in on the builder; returns ref -> image id. */
export async function buildStandIns(socket: string, refs: string[] = Object.keys(STAND_INS), log: (s: string) => void = () => {}): Promise<Map<string, string>> {
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_BUILDKIT: "0" };
    await importBase(socket);
    const ids = new Map<string, string>();
    const known: Record<string, string> = { ...INTERNAL_IMAGES, ...STAND_INS };
    for (const ref of [...Object.keys(INTERNAL_IMAGES), ...refs]) {
        const dir = known[ref];
        if (!dir) throw new Error(`no stand-in for image ${ref}; have ${Object.keys(STAND_INS).join(", ")}`);
        const t0 = Date.now();
        const args = ["build", "--network", "host", "-q", "-f", path.join(IMAGES_DIR, "..", dir, "Dockerfile"), "-t", ref];
        for (const [k, v] of Object.entries(buildArgs(ref))) args.push("--build-arg", `${k}=${v}`);
        args.push(IMAGES_DIR);
        const r = run("docker", args, { env, timeoutMs: 1_200_000, allowFail: true });
        if (r.code !== 0) throw new Error(`building ${ref} from ${dir} failed: ${(r.stderr || r.stdout).slice(-3000)}`);
        ids.set(ref, dockerAt(socket, ["image", "inspect", "--format", "{{.Id}}", ref]).stdout);
        log(`  ${ref} <- ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
    return ids;
}

/** Images of the plan that have no stand-in (must be empty). */
export function missingStandIns(plan: OfflinePlan): string[] {
    return [...new Set(planServices(plan).map((s) => s.image))].filter((ref) => !(ref in STAND_INS)).sort();
}

/**
 * Loads on each lab node only the images the plan can place on it (plus `extra` refs on the nodes that run the
 * same service as `extraLike`), as one `docker save` tar per distinct image set (cached by image ids), `docker load`ed
 * on the node's socket. Builds what is missing first.
 */
export async function loadImages(lab: Pick<Lab, "nodes">, plan: OfflinePlan, opts: { extra?: Record<string, string>; log?: (s: string) => void } = {}): Promise<Map<string, string[]>> {
    const missing = missingStandIns(plan);
    if (missing.length > 0) throw new Error(`plan ${plan.stack} uses images without a stand-in: ${missing.join(", ")}`);
    const perNode = imagesPerNode(lab, plan);
    for (const [extra, like] of Object.entries(opts.extra ?? {})) {
        for (const [, refs] of perNode) if (refs.includes(like) && !refs.includes(extra)) refs.push(extra);
    }
    const sets = new Map<string, string[]>();
    for (const refs of perNode.values()) sets.set(refs.slice().sort().join(" "), refs.slice().sort());
    const tarOf = new Map<string, string>();
    const tarsDir = path.join(CACHE, "image-sets");
    fs.mkdirSync(tarsDir, { recursive: true });
    // Image-set tars unused for a day are stale builds: remove them (the cache would grow with every change).
    for (const f of fs.readdirSync(tarsDir)) {
        const full = path.join(tarsDir, f);
        if (Date.now() - fs.statSync(full).mtimeMs > 86_400_000) fs.rmSync(full, { force: true });
    }
    await withBuilder(async (socket) => {
        const all = [...new Set([...sets.values()].flat())];
        const ids = await buildStandIns(socket, all, opts.log);
        for (const [key, refs] of sets) {
            const digest = createHash("sha256").update(refs.map((r) => `${r}=${ids.get(r)}`).join("\n")).digest("hex").slice(0, 20);
            const tar = path.join(tarsDir, `${digest}.tar`);
            if (!fs.existsSync(tar)) {
                const tmp = `${tar}.tmp.${process.pid}`;
                dockerAt(socket, ["save", "-o", tmp, ...refs], { timeoutMs: 600_000 });
                fs.renameSync(tmp, tar);
            } else {
                const now = new Date();
                fs.utimesSync(tar, now, now);
            }
            tarOf.set(key, tar);
        }
    });
    // Load, at most 3 nodes at once (2 cores: the loads are disk- and CPU-bound).
    const queue = [...lab.nodes];
    const worker = async () => {
        for (let n = queue.shift(); n; n = queue.shift()) {
            const refs = perNode.get(n.hostname)!;
            if (refs.length === 0) continue;
            const tar = tarOf.get(refs.slice().sort().join(" "))!;
            const t0 = Date.now();
            await new Promise<void>((resolve, reject) => {
                const child = spawn("docker", ["load", "-q", "-i", tar], { env: { ...process.env, DOCKER_HOST: `unix://${n.socket}` }, stdio: ["ignore", "ignore", "pipe"] });
                let err = "";
                child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
                const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
                child.on("exit", (code) => {
                    clearTimeout(timer);
                    if (code === 0) resolve();
                    else reject(new Error(`docker load of ${tar} on ${n.hostname} exited ${code}: ${err}`));
                });
            });
            opts.log?.(`  ${n.hostname}: loaded ${refs.length} images in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        }
    };
    await Promise.all([worker(), worker(), worker()]);
    return perNode;
}

/** Hash of everything the stand-ins are built from (swarm-images/, the reference map, the base tar's identity). */
export function standInsHash(): string {
    const h = createHash("sha256");
    const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(dir, e.name);
            if (e.isDirectory()) walk(full);
            else h.update(`${path.relative(IMAGES_DIR, full)}\0`).update(fs.readFileSync(full)).update("\0");
        }
    };
    walk(IMAGES_DIR);
    h.update(JSON.stringify({ STAND_INS, INTERNAL_IMAGES, args: Object.keys(STAND_INS).map(buildArgs) }));
    if (fs.existsSync(BASE_TAR)) {
        const st = fs.statSync(BASE_TAR);
        h.update(`${st.size}/${st.mtimeMs}`);
    }
    return h.digest("hex");
}

const STAMP = path.join(CACHE, "stand-ins.stamp");

// `node --import tsx test/swarm/images.ts build`: builds every stand-in (scripts/setup-swarm.sh runs it); quick
// when nothing changed since the last build (a stamp of standInsHash()).
if (require.main === module && process.argv[2] === "build") {
    const t0 = Date.now();
    const want = standInsHash();
    const builderData = path.join(CACHE, "builder");
    if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8") === want && fs.existsSync(builderData)) {
        console.log(`  stand-in images: up to date (${Object.keys(STAND_INS).length} images, stamp ${STAMP})`);
    } else {
        console.log(`  stand-in images: building ${Object.keys(STAND_INS).length} images from swarm-images/ (layer cache in ${builderData})`);
        withBuilder((socket) => buildStandIns(socket, Object.keys(STAND_INS), (s) => console.log(s)))
            .then((ids) => {
                fs.writeFileSync(STAMP, want);
                console.log(`  stand-in images: ${ids.size} built or up to date in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
            })
            .catch((e: unknown) => {
                console.error(e instanceof Error ? e.message : String(e));
                process.exit(1);
            });
    }
}

/**
 * The runtime contract each stand-in mirrors (swarm-images/README.md gives the upstream source of every line):
 * the user the image runs as (uid:gid; "0:0" = no USER), and, where it matters, the named user the program
 * drops to. lab.test.ts checks the built images against it.
 */
export const RUNTIME: Record<string, { uid: number; gid: number; entrypoint: string[] | null; cmd: string[] | null; workdir: string; dropsTo?: { user: string; uid: number; gid: number } }> = {
    "ghcr.io/zalando/spilo-17:4.0-p2": { uid: 0, gid: 0, entrypoint: null, cmd: ["/bin/sh", "/launch.sh", "init"], workdir: "/home/postgres", dropsTo: { user: "postgres", uid: 101, gid: 103 } },
    "registry.k8s.io/etcd:3.5.16-0": { uid: 0, gid: 0, entrypoint: null, cmd: null, workdir: "/" },
    "haproxy:2.8.11": { uid: 99, gid: 99, entrypoint: ["docker-entrypoint.sh"], cmd: ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"], workdir: "/var/lib/haproxy" },
    "redis:7.2.6-alpine": { uid: 0, gid: 0, entrypoint: ["docker-entrypoint.sh"], cmd: ["redis-server"], workdir: "/data", dropsTo: { user: "redis", uid: 999, gid: 1000 } },
    "oliver006/redis_exporter:v1.66.0-alpine": { uid: 59000, gid: 59000, entrypoint: ["/redis_exporter"], cmd: null, workdir: "" },
    "quay.io/prometheuscommunity/postgres-exporter:v0.16.0": { uid: 65534, gid: 65534, entrypoint: ["/bin/postgres_exporter"], cmd: null, workdir: "" },
    "prom/blackbox-exporter:v0.25.0": { uid: 6170, gid: 0, entrypoint: ["/bin/blackbox_exporter"], cmd: ["--config.file=/etc/blackbox_exporter/config.yml"], workdir: "" },
    "prom/node-exporter:v1.8.2": { uid: 65534, gid: 65534, entrypoint: ["/bin/node_exporter"], cmd: null, workdir: "" },
    "prom/prometheus:v2.55.1": { uid: 65534, gid: 65534, entrypoint: ["/bin/prometheus"], cmd: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"], workdir: "/prometheus" },
    "prom/alertmanager:v0.27.0": { uid: 65534, gid: 65534, entrypoint: ["/bin/alertmanager"], cmd: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"], workdir: "/alertmanager" },
    "amazon/aws-cli:2.22.10": { uid: 0, gid: 0, entrypoint: ["/usr/local/bin/aws"], cmd: null, workdir: "/aws" },
    "tecnativa/docker-socket-proxy:0.3.0": { uid: 0, gid: 0, entrypoint: ["docker-entrypoint.sh"], cmd: ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"], workdir: "" },
    "traefik:v3.6.24": { uid: 0, gid: 0, entrypoint: ["/entrypoint.sh"], cmd: ["traefik"], workdir: "" },
    "kubeworkz/ops_center:frontend-1.4.2": { uid: 0, gid: 0, entrypoint: null, cmd: ["/usr/bin/python3", "/usr/local/bin/ops-center-app"], workdir: "" },
    "kubeworkz/ops_center:backend-1.4.2": { uid: 0, gid: 0, entrypoint: null, cmd: ["/usr/bin/python3", "/usr/local/bin/ops-center-app"], workdir: "" },
};
