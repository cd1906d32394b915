/**
 * `npm run postgres-leader -- <stack> --pg <host:port> [--set]`: prints the Patroni member (pg-1..pg-N) that leads the
 * stack's region now, for config `postgresRollLast`, so that a roll of the Postgres members (an image bump, a
 * rotated secret) stops the leader last and hands the leader key over once, to a member already rolled
 * (README, Rolling a stateful tier; bench swarm_postgres_rolling_update).
 *
 * It asks the leader itself, through the region's HAProxy primary port (which routes only to the leader): its
 * `pg_stat_replication` lists every other member streaming from it, by its Patroni name (`application_name`,
 * renderers/patroniSpilo.ts spiloMemberName). The leader is the one member not in that list. When more than one is
 * missing, a member is not streaming, and a roll would stop a member while another is already out: it refuses.
 * `--set` also runs `pulumi config set postgresRollLast <member> -s <stack>`.
 */
import { spawnSync } from "node:child_process";
import { CONFIG_NAMESPACE } from "../config/keys";
import { parseStandbyCredentials, standbyCredentialsFromOutputs } from "../config/standbyCredentials";
import { PATRONI_DEFAULTS } from "../renderers/patroniDcs";
import { spiloMemberName } from "../renderers/patroniSpilo";
import { LeaderConnection, pulumi } from "./rotatePasswords";

/** One row of the leader's pg_stat_replication. */
export interface ReplicationRow {
    /** The standby's Patroni member name. */
    readonly applicationName: string;
    /** walsender state: "streaming" once caught up. */
    readonly state: string;
}

/**
 * The leader's service member name (pg-1..pg-N) from its pg_stat_replication: the one member of `members` not
 * streaming from it. Throws, naming them, when any other member is not streaming.
 */
export function leaderFromReplication(region: string, members: number, rows: readonly ReplicationRow[]): string {
    const names = Array.from({ length: members }, (_, i) => spiloMemberName(region, i + 1));
    const streaming = new Set(rows.filter((r) => r.state === "streaming").map((r) => r.applicationName));
    const missing = names.filter((n) => !streaming.has(n));
    if (missing.length !== 1) {
        const seen = rows.map((r) => `${r.applicationName} (${r.state})`).join(", ") || "none";
        throw new Error(
            `postgres-leader: ${missing.length === 0 ? "every member streams from the leader, so none of them is it" : `${missing.length - 1} member(s) besides the leader are not streaming (one of ${missing.join(", ")})`}; ` +
                `the leader's pg_stat_replication lists ${seen}. Roll only when every member streams (patronictl list).`,
        );
    }
    return missing[0].slice(region.length + 1);
}

/** Reads the leader's pg_stat_replication through `leader` (the HAProxy primary port) as the superuser. */
export function replicationRows(leader: LeaderConnection): ReplicationRow[] {
    const r = spawnSync(leader.psql ?? "psql", ["-X", "-At", "-F", "\t", "-h", leader.host, "-p", String(leader.port), "-U", PATRONI_DEFAULTS.superuserName, "-d", "postgres", "-c", "SELECT application_name, state FROM pg_stat_replication"], {
        encoding: "utf8",
        timeout: 30_000,
        env: { ...process.env, PGPASSWORD: leader.superuserPassword, PGCONNECT_TIMEOUT: "5" },
    });
    if (r.status !== 0) throw new Error(`pg_stat_replication on the leader (${leader.host}:${leader.port}) failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
    return r.stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => {
            const [applicationName, state] = l.split("\t");
            return { applicationName, state: state ?? "" };
        });
}

function main(argv: string[]): void {
    const pgAt = argv.indexOf("--pg");
    const [stack] = argv.filter((a, i) => !a.startsWith("--") && i !== pgAt + 1);
    if (!stack || pgAt < 0 || !argv[pgAt + 1]) {
        console.error("usage: npm run postgres-leader -- <stack> --pg <host:port of the region's HAProxy primary port> [--set]");
        process.exit(2);
    }
    const [host, port] = argv[pgAt + 1].split(":");
    const region = pulumi(["config", "get", "aws:region", "-s", stack]).trim();
    const membersText = spawnSync("pulumi", ["config", "get", `${CONFIG_NAMESPACE}:postgresMembers`, "-s", stack], { encoding: "utf8" });
    const members = membersText.status === 0 ? Number(membersText.stdout.trim()) : 3;
    const creds = parseStandbyCredentials(standbyCredentialsFromOutputs(JSON.parse(pulumi(["stack", "output", "--json", "--show-secrets", "-s", stack]))));
    const leader = leaderFromReplication(region, members, replicationRows({ host, port: Number(port), superuserPassword: creds.pgSuperuser }));
    console.log(leader);
    if (argv.includes("--set")) pulumi(["config", "set", `${CONFIG_NAMESPACE}:postgresRollLast`, leader, "-s", stack]);
}

if (require.main === module) main(process.argv.slice(2));
