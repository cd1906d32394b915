/**
 * The primary region a standby stack's lab follows.
 *
 * us-west-2's plan is a standby of us-east-1: its Patroni standby cluster bootstraps and streams from the primary
 * region's router (the plan's `bootstrap.dcs.standby_cluster` host and port, as the replication user PGUSER_STANDBY
 * with the `pg_replication_password` secret), and its Redis is a replica of the primary region's master (the
 * `replicaof` line of its config). A lab of the standby's hosts alone has no primary region, so Patroni never
 * bootstraps ("connection to server at 10.10.20.10, port 5000 failed: Network is unreachable", lab run of
 * 2026-12-07). This stands in for the primary region: one PostgreSQL 15 primary and one Redis master from the
 * machine's Debian packages (the versions the chaos tests run), in a network namespace of the lab's slot on the lab's
 * bridge, answering on exactly the addresses and ports the standby's plan names, and authenticating as the primary's
 * Spilo does (its pg_hba: SSL required, `hostssl replication <standby user>`; Redis `requirepass`). The passwords are
 * the standby plan's own secret values: in a deployment `npm run promote -- copy-credentials` makes the two regions'
 * equal. Lab environment, not the plan: the run prints it with the deviations.
 *
 * Its namespace and veth are named after the slot (labSystem.slotNames), so cleanSlot removes them, and the daemons
 * in the namespace, as it removes the nodes; its directory is /var/tmp/opscenter-lab/peer-region-<slot>.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import type { Lab } from "./lab";
import { killAll, sh, sleep, slotNames } from "./labSystem";
import { Json, mountedSecret, Translation } from "./translate";

/** What a standby plan asks of its primary region. */
export interface PeerNeeds {
    readonly postgres?: { readonly hosts: string[]; readonly port: number; readonly user: string; readonly password: string };
    readonly redis?: { readonly host: string; readonly port: number; readonly password: string };
}

const PG_BIN = "/usr/lib/postgresql/15/bin";
/** Veth index of the stand-in (lab hosts use 0..14). */
const PEER_INDEX = 15;


/**
 * Reads what the translation's services ask of a primary region: a Patroni standby cluster's source, and a Redis
 * `replicaof` an address that is none of the plan's own hosts (`own`; in a primary region the replicas follow an own
 * host). Undefined for a primary stack's plan. Pure.
 */
export function peerNeeds(t: Translation, own: ReadonlySet<string>): PeerNeeds | undefined {
    let postgres: PeerNeeds["postgres"];
    let redis: PeerNeeds["redis"];
    for (const svc of t.services) {
        const spec = svc.spec as Json;
        const cs = (spec.TaskTemplate as Json).ContainerSpec as Json;
        const env = new Map(((cs.Env as string[] | undefined) ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        const spilo = env.get("SPILO_CONFIGURATION");
        const sc = spilo ? (YAML.parse(spilo) as Json)?.bootstrap : undefined;
        const standby = (sc as Json | undefined)?.dcs ? (((sc as Json).dcs as Json).standby_cluster as Json | undefined) : undefined;
        if (standby && !postgres) {
            const password = mountedSecret(t, String(spec.Name), "/run/secrets/pg_replication_password");
            if (!password) throw new Error(`${String(spec.Name)}: a standby cluster member without /run/secrets/pg_replication_password`);
            postgres = { hosts: String(standby.host).split(","), port: Number(standby.port), user: env.get("PGUSER_STANDBY") ?? "standby", password };
        }
        for (const ref of (cs.Configs as Json[] | undefined) ?? []) {
            const c = t.configs.find((x) => x.body.Name === ref.ConfigName);
            const m = c && /^replicaof\s+(\S+)\s+(\d+)\s*$/m.exec(Buffer.from(c.body.Data, "base64").toString("utf8"));
            if (m && !redis && !own.has(m[1])) {
                const password = mountedSecret(t, String(spec.Name), "/run/secrets/redis_password");
                if (!password) throw new Error(`${String(spec.Name)}: a Redis replica of another region without /run/secrets/redis_password`);
                redis = { host: m[1], port: Number(m[2]), password };
            }
        }
    }
    return postgres || redis ? { postgres, redis } : undefined;
}

export interface PeerRegion {
    /** What the run prints about it. */
    readonly lines: string[];
    /** The primary region's addresses it answers on (the standby plan's). */
    readonly addresses: string[];
    /** Runs SQL on the stand-in primary as its superuser; returns psql -At output. */
    sql(query: string): string;
    /** Runs a redis-cli command on the stand-in master. */
    redis(args: string[]): string;
    stop(): void;
}

/** Starts the stand-in primary region on `lab`'s bridge and routes every lab node to its addresses. */
export async function startPeerRegion(lab: Lab, needs: PeerNeeds): Promise<PeerRegion> {
    const n = slotNames(lab.slot);
    const ns = n.netns("peer-region");
    // Not under the slot's run dir (root-only): the daemons run as postgres and redis. A leftover of a killed run goes first.
    const dir = path.join("/var/tmp/opscenter-lab", `peer-region-${lab.slot}`);
    fs.rmSync(dir, { recursive: true, force: true });
    const children: ChildProcess[] = [];
    const addresses = [...new Set([...(needs.postgres?.hosts ?? []), ...(needs.redis ? [needs.redis.host] : [])])];
    for (const a of addresses) if (!/^\d+\.\d+\.\d+\.\d+$/.test(a)) throw new Error(`peer region: ${a} is not an IPv4 address (the plan names the primary region by address)`);
    const stop = () => {
        const inside = sh("ip", ["netns", "pids", ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean).map(Number);
        killAll([...children.flatMap((c) => (c.pid ? [c.pid] : [])), ...inside]);
        sh("ip", ["netns", "del", ns], { allowFail: true });
        sh("ip", ["link", "del", n.veth(PEER_INDEX)], { allowFail: true });
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        fs.mkdirSync(dir, { recursive: true });
        fs.chmodSync(dir, 0o755);
        sh("ip", ["netns", "add", ns]);
        sh("ip", ["link", "add", n.veth(PEER_INDEX), "type", "veth", "peer", "name", n.vethPeer(PEER_INDEX)]);
        sh("ip", ["link", "set", n.vethPeer(PEER_INDEX), "netns", ns]);
        sh("ip", ["link", "set", n.veth(PEER_INDEX), "master", n.bridge, "up"]);
        sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
        sh("ip", ["-n", ns, "link", "set", n.vethPeer(PEER_INDEX), "name", "eth0"]);
        sh("ip", ["-n", ns, "addr", "add", `${n.address(PEER_INDEX)}/24`, "dev", "eth0"]);
        for (const a of addresses) sh("ip", ["-n", ns, "addr", "add", `${a}/32`, "dev", "eth0"]);
        sh("ip", ["-n", ns, "link", "set", "eth0", "up"]);
        for (const node of lab.nodes) for (const a of addresses) sh("ip", ["-n", node.netns, "route", "replace", `${a}/32`, "dev", "eth0"]);
        // setpriv execs (runuser would fork and wait): the child's pid is the daemon's, which stop() kills.
        const inNs = (user: string, argv: string[]): [string, string[]] => ["nsenter", [`--net=/var/run/netns/${ns}`, "--", "setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "--", ...argv]];
        const lines: string[] = [];
        const start = ([cmd, args]: [string, string[]], logFile: string) => {
            const log = fs.openSync(logFile, "a");
            const child = spawn(cmd, args, { detached: true, stdio: ["ignore", log, log] });
            fs.closeSync(log);
            children.push(child);
            child.unref();
        };

        if (needs.postgres) {
            const pg = needs.postgres;
            if (!/^[a-z_][a-z0-9_]{0,62}$/.test(pg.user)) throw new Error(`peer region: PGUSER_STANDBY ${JSON.stringify(pg.user)} is not a plain role name`);
            const data = path.join(dir, "pg");
            fs.mkdirSync(data, { mode: 0o700 });
            sh("chown", ["postgres:postgres", data]);
            sh("runuser", ["-u", "postgres", "--", `${PG_BIN}/initdb`, "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=reject", "-E", "UTF8"], { timeoutMs: 120_000 });
            // A self-signed certificate, as Spilo makes one (SSL_CERTIFICATE_FILE unset): the standby must connect over SSL.
            sh("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=peer-region", "-keyout", path.join(data, "server.key"), "-out", path.join(data, "server.crt")]);
            sh("chown", ["postgres:postgres", path.join(data, "server.key"), path.join(data, "server.crt")]);
            fs.chmodSync(path.join(data, "server.key"), 0o600);
            // The primary Spilo's pg_hba (swarm-images/spilo/scripts/configure_spilo.py template: ALLOW_NOSSL unset).
            fs.writeFileSync(path.join(data, "pg_hba.conf"), [
                "local   all             all                                   trust",
                `hostssl replication     ${pg.user} all                md5`,
                "hostnossl all           all                all                reject",
                "hostssl all             all                all                md5",
                "",
            ].join("\n"));
            start(inNs("postgres", [`${PG_BIN}/postgres`, "-D", data, "-c", `port=${pg.port}`, "-c", "listen_addresses=*", "-c", `unix_socket_directories=${data}`, "-c", "ssl=on", "-c", "wal_level=replica", "-c", "max_wal_senders=10"]), path.join(dir, "postgres.log"));
            await waitFor("the stand-in primary's PostgreSQL", () => sh("runuser", ["-u", "postgres", "--", `${PG_BIN}/pg_isready`, "-h", data, "-p", String(pg.port)], { allowFail: true }).code === 0, path.join(dir, "postgres.log"));
            psql(data, pg.port, `CREATE ROLE ${pg.user} WITH LOGIN REPLICATION PASSWORD $peer$${pg.password}$peer$;`);
            lines.push(`the primary region's router (${pg.hosts.join(", ")}:${pg.port}): one PostgreSQL 15 primary, Spilo's pg_hba (SSL required), replication role ${pg.user} with the standby plan's pg_replication_password`);
        }
        if (needs.redis) {
            const r = needs.redis;
            const data = path.join(dir, "redis");
            fs.mkdirSync(data, { mode: 0o700 });
            sh("chown", ["redis:redis", data]);
            const conf = path.join(data, "redis.conf");
            fs.writeFileSync(conf, [`bind ${r.host}`, `port ${r.port}`, `dir ${data}`, `requirepass ${r.password}`, "appendonly no", 'save ""', "daemonize no", ""].join("\n"), { mode: 0o600 });
            sh("chown", ["redis:redis", conf]);
            start(inNs("redis", ["redis-server", conf]), path.join(dir, "redis.log"));
            await waitFor("the stand-in primary's Redis", () => redisCli(["ping"]).trim() === "PONG", path.join(dir, "redis.log"));
            lines.push(`the primary region's Redis master (${r.host}:${r.port}): one Redis from Debian's package with the standby plan's redis_password`);
        }

        function redisCli(args: string[]): string {
            const r = needs.redis!;
            return sh("nsenter", [`--net=/var/run/netns/${ns}`, "--", "redis-cli", "-h", r.host, "-p", String(r.port), ...args], { allowFail: true, timeoutMs: 10_000, env: { ...process.env, REDISCLI_AUTH: r.password } }).stdout;
        }
        return {
            lines: lines.map((l) => `LAB ENVIRONMENT, not the plan (a standby's plan follows a primary region the lab does not run): ${l}`),
            addresses,
            sql: (q) => {
                if (!needs.postgres) throw new Error("peer region: the standby's plan asks for no Postgres primary, so none runs");
                return psql(path.join(dir, "pg"), needs.postgres.port, q);
            },
            redis: (args) => {
                if (!needs.redis) throw new Error("peer region: the standby's plan asks for no Redis master, so none runs");
                return redisCli(args);
            },
            stop,
        };
    } catch (e) {
        stop();
        throw e;
    }
}

function psql(socketDir: string, port: number, query: string): string {
    return sh("runuser", ["-u", "postgres", "--", `${PG_BIN}/psql`, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", socketDir, "-p", String(port), "-d", "postgres", "-f", "-"], { input: query, timeoutMs: 30_000 }).stdout.trim();
}

async function waitFor(what: string, ready: () => boolean, log: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
        if (ready()) return;
        await sleep(200);
    }
    throw new Error(`peer region: ${what} not ready within 60 s: ${fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(-10).join("\n") : "(no log)"}`);
}
