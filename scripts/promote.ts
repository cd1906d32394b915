/**
 * Region promotion and Patroni DCS sync over the Docker provider's SSH path (README "Region promotion").
 *
 *   npm run promote -- <stack> [--dry-run] [--docker-host ssh://user@host] [--no-up]
 *       Promote the region: PATCH {"standby_cluster": null} (and any other DCS difference) onto the live cluster,
 *       make the Redis replica redis-1 the region's master (REPLICAOF NO ONE, CONFIG REWRITE),
 *       then `pulumi config set role primary` and `pulumi up` (sentinels, read-write backend, routers).
 *   npm run promote -- sync <stack> [--dry-run] [--docker-host ...]
 *       After a `pulumi up` that changed a bootstrap.dcs key (ttl, loop_wait, synchronous_mode, parameters...):
 *       PATCH the live cluster to the deployed bootstrap.dcs (Patroni ignores bootstrap.dcs after creation).
 *   npm run promote -- copy-credentials <stack> [--dry-run]
 *       Once, when the standby is built: copy the primary's passwords into this stack's secret config.
 *   npm run promote -- fence <stack> [--dry-run]
 *       Record the region fence naming <stack>'s region the primary (renderers/fence.ts): epoch = highest found + 1,
 *       written to this region's WAL bucket (must succeed) and the peer region's (best effort). Promotion does it
 *       itself; run it again once the old region's S3 answers, so that its own bucket holds the record too.
 *
 * --dry-run runs only read-only commands (GET /config, docker inspect, reading the fence records) and prints every
 * request it would send.
 */
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { standbyCredentialsFromOutputs } from "../config/standbyCredentials";
import { FenceBucket, fenceReadCommand, fenceWriteCommand } from "../lib/fenceBuckets";
import { Fence, nextFence, parseFence, renderFence } from "../renderers/fence";
import { inspectEnv, onManager, onNode, patroniRequest, redisPromoteRequest, runningNodeAddress } from "../lib/promotion";
import { bootstrapDcs, dcsPatch, JsonObject, promotionPatch } from "../renderers/patroniConfigPatch";
import { REDIS_DEFAULTS } from "../renderers/redisDefaults";

const MEMBERS = ["opscenter-pg-1", "opscenter-pg-2", "opscenter-pg-3"];
/** The standby region's Redis replica: the same name in both roles (components/redis.ts). */
const REDIS_NODE = "opscenter-redis-1";
const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const opt = (f: string) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);
const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && ["--docker-host"].includes(args[i - 1])));
const mode = positional[0] === "sync" || positional[0] === "copy-credentials" || positional[0] === "fence" ? positional[0] : "promote";
const stack = mode === "promote" ? positional[0] : positional[1];
const dryRun = flag("--dry-run");

function show(argv: string[], stdin?: string) {
    console.log(`$ ${argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ")}${stdin !== undefined ? `  <<< ${stdin}` : ""}`);
}
function run(argv: string[], stdin?: string, secretStdin = false): string {
    show(argv, secretStdin ? "<secret>" : stdin);
    const r = spawnSync(argv[0], argv.slice(1), { input: stdin, encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${argv[0]} exited ${r.status}: ${r.stderr || r.error?.message || ""}`.trim());
    return r.stdout.trim();
}
const send = (argv: string[], stdin?: string) => (dryRun ? (show(argv, stdin), "") : run(argv, stdin));

let host: string | undefined;
function dockerHost(): string {
    return (host ??= opt("--docker-host") ?? run(["pulumi", "stack", "output", "dockerHost", "--stack", stack!]));
}

/** The first member with a running task: its node address and its deployed bootstrap.dcs. */
function member(host: string): { service: string; address: string; deployed: JsonObject } {
    let last = "";
    for (const service of MEMBERS) {
        let address: string;
        try {
            address = run(onManager(host, runningNodeAddress(service)));
        } catch (e) {
            last = e instanceof Error ? e.message : String(e);
            continue;
        }
        const env = JSON.parse(run(onManager(host, inspectEnv(service)))) as string[];
        const spilo = env.find((e) => e.startsWith("SPILO_CONFIGURATION="));
        if (!spilo) throw new Error(`${service} has no SPILO_CONFIGURATION`);
        return { service, address, deployed: bootstrapDcs(parse(spilo.slice("SPILO_CONFIGURATION=".length))) };
    }
    throw new Error(`no running Postgres member (${MEMBERS.join(", ")}) on the Swarm at ${host}${last ? ` (last: ${last})` : ""}`);
}

function patch(promote: boolean) {
    const host = dockerHost();
    const m = member(host);
    const live = JSON.parse(run(onNode(host, m.address, patroniRequest(m.service, "GET")))) as JsonObject;
    const body = promote ? promotionPatch(live, m.deployed) : dcsPatch(live, m.deployed);
    if (!body) console.log("Patroni's live config already matches: no PATCH");
    else {
        console.log(`PATCH /config ${JSON.stringify(body)}${dryRun ? " (dry run: not sent)" : ""}`);
        send(onNode(host, m.address, patroniRequest(m.service, "PATCH")), JSON.stringify(body));
    }
}

/** The standby's Redis replica becomes its region's master (lib/promotion.ts REDIS_PROMOTE_COMMANDS). */
function promoteRedis() {
    const host = dockerHost();
    const address = run(onManager(host, runningNodeAddress(REDIS_NODE)));
    const out = send(onNode(host, address, redisPromoteRequest(REDIS_NODE, REDIS_DEFAULTS.passwordFile, REDIS_DEFAULTS.port)));
    if (!dryRun) console.log(`${REDIS_NODE}: ROLE ${out.split("\n")[0]}`);
}

/** Reads one bucket's fence record: the record, "absent", or "unreadable" (with the reason). */
function readFence(b: FenceBucket): { fence?: Fence; state: "found" | "absent" | "unreadable"; why?: string } {
    const argv = fenceReadCommand(b);
    show(argv);
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 60_000 });
    if (r.status === 0) {
        const fence = parseFence(r.stdout);
        return fence ? { fence, state: "found" } : { state: "unreadable", why: `s3://${b.bucket} holds something that is not a fence record` };
    }
    const err = `${r.stderr ?? ""}${r.error?.message ?? ""}`;
    return /\(404\)|NoSuchKey|Not Found/.test(err) ? { state: "absent" } : { state: "unreadable", why: err.trim().split("\n")[0] };
}

/**
 * Records the fence naming this stack's region the primary: read both buckets' records, write the next epoch to this
 * region's bucket (required: the old region's start gates read it from there), then to the peer's (best effort: the
 * peer region is usually the dead one).
 */
function recordFence() {
    const b = JSON.parse(run(["pulumi", "stack", "output", "fenceBuckets", "--json", "--stack", stack!])) as { own: FenceBucket; peer?: FenceBucket };
    if (!b.peer) throw new Error(`stack ${stack} has no peer region (config peerRegion): there is no other region to fence`);
    const own = readFence(b.own);
    if (own.state === "unreadable") throw new Error(`cannot read this region's fence record (s3://${b.own.bucket}): ${own.why}`);
    const peer = readFence(b.peer);
    if (peer.state === "unreadable") console.warn(`promote: the peer region's fence record is unreadable (${peer.why}); the epoch is computed from this region's record only`);
    const f = nextFence([own.fence, peer.fence], b.own.region, b.peer.region, new Date());
    const text = renderFence(f);
    console.log(`fence: epoch ${f.epoch}, primary ${f.primaryRegion}, fenced ${f.fencedRegion}${dryRun ? " (dry run: not written)" : ""}`);
    send(fenceWriteCommand(b.own), text);
    try {
        send(fenceWriteCommand(b.peer), text);
    } catch (e) {
        console.warn(`promote: could not write the fence to the peer region's bucket s3://${b.peer.bucket} (${e instanceof Error ? e.message : String(e)}). ` +
            `Its start gates also read this region's bucket; once ${b.peer.region}'s S3 answers, run: npm run promote -- fence ${stack}`);
    }
}

function main() {
    if (!stack) throw new Error("usage: npm run promote -- [sync|copy-credentials|fence] <stack> [--dry-run] [--docker-host ssh://user@host] [--no-up]");
    if (mode === "copy-credentials") {
        const primaryStack = run(["pulumi", "config", "get", "primaryStack", "--stack", stack]);
        const outputs = JSON.parse(run(["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", primaryStack])) as Record<string, unknown>;
        const value = standbyCredentialsFromOutputs(outputs);
        // The value goes on stdin, never on a command line.
        if (dryRun) show(["pulumi", "config", "set", "--secret", "standbyCredentials", "--stack", stack], "<secret>");
        else run(["pulumi", "config", "set", "--secret", "standbyCredentials", "--stack", stack], value, true);
        return;
    }
    if (mode === "sync") return patch(false);
    if (mode === "fence") return recordFence();
    // Promote: the database first (writable in seconds), then the fence (the old region's members, rendered as
    // primaries, stay down when they start again), then the rest of the region by one config change.
    patch(true);
    promoteRedis();
    recordFence();
    send(["pulumi", "config", "set", "role", "primary", "--stack", stack]);
    if (!flag("--no-up")) send(["pulumi", "up", "--yes", "--skip-preview", "--stack", stack]);
}

try {
    main();
} catch (e) {
    console.error(`promote: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
}
