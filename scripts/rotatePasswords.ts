/**
 * `npm run rotate-passwords -- <primaryStack> <standbyStack> --pg <host:port>`: rotates the application and
 * monitoring roles' passwords (pgApp, pgMonitor) without a window in which Postgres holds a password no deployed
 * secret has, in the order issue 12 asks:
 *
 * 1. read the region's current passwords (the primary stack's secret outputs, as `promote copy-credentials` does);
 * 2. make two new random passwords (190 bits, alphanumeric like @pulumi/random's in components/credentials.ts);
 * 3. ALTER ROLE on the Patroni leader FIRST: the rendered roles SQL (renderers/postgresRoles.ts renderRolesSql, the
 *    same file post_init runs at bootstrap: idempotent, statement logging off, passwords from the environment via
 *    psql's \getenv, never on a command line) through the region's HAProxy primary port, which routes only to the
 *    Patroni leader (renderers/haproxy.ts: `/primary` check). The standby region is a physical copy: the new role
 *    passwords reach it by replication, with nothing to run there;
 * 4. roll the secrets: `pulumi config set --secret standbyCredentials <the five passwords, two new>` and `pulumi up`
 *    on the primary stack, then the same on the standby stack (it authenticates with the primary's passwords).
 *    components/credentials.ts ships `standbyCredentials` instead of generated values when set; the three unchanged
 *    values keep their content-named Swarm secrets, so only the consumers of pgApp/pgMonitor roll.
 *
 * Between 3 and the end of 4, a task still on the old secret cannot open a NEW connection (Postgres holds one
 * password per role); open connections stay. test/chaos/passwordRotation.test.ts measures that window.
 * `--dry-run` prints the commands of step 4 without running anything.
 */
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PATRONI_DEFAULTS } from "../renderers/patroniDcs";
import { POSTGRES_ROLES_DEFAULTS, renderRolesSql } from "../renderers/postgresRoles";
import { CONFIG_NAMESPACE } from "../config/keys";
import { parseStandbyCredentials, standbyCredentialsFromOutputs } from "../config/standbyCredentials";

/** A new password: 32 characters of [A-Za-z0-9] (as components/credentials.ts generates them). */
export function newPassword(): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let out = "";
    while (out.length < 32) {
        for (const b of randomBytes(64)) {
            if (b < 248 && out.length < 32) out += alphabet[b % 62];
        }
    }
    return out;
}

/** Where and how to reach the leader (the HAProxy primary port routes only to the Patroni leader). */
export interface LeaderConnection {
    readonly host: string;
    readonly port: number;
    /** The superuser's password (pgSuperuser). */
    readonly superuserPassword: string;
    /** psql to run (default "psql", >= 15 for \getenv). */
    readonly psql?: string;
}

/**
 * Step 3: ALTER ROLE (app and monitor) on the leader with the rendered roles SQL. Throws with psql's message on
 * failure; never puts a password on a command line or in a file outside a 0700 scratch directory.
 */
export function alterRolePasswords(leader: LeaderConnection, passwords: { readonly app: string; readonly monitor: string }): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-rotate-"));
    try {
        const sql = path.join(dir, "roles.sql");
        fs.writeFileSync(sql, renderRolesSql(), { mode: 0o600 });
        const env = POSTGRES_ROLES_DEFAULTS.passwordEnv;
        const r = spawnSync(leader.psql ?? "psql", ["-X", "-q", "-h", leader.host, "-p", String(leader.port), "-U", PATRONI_DEFAULTS.superuserName, "-d", "postgres", "-f", sql], {
            encoding: "utf8",
            timeout: 30_000,
            env: { ...process.env, PGPASSWORD: leader.superuserPassword, PGCONNECT_TIMEOUT: "5", [env.app]: passwords.app, [env.monitor]: passwords.monitor },
        });
        if (r.status !== 0) throw new Error(`ALTER ROLE on the leader (${leader.host}:${leader.port}) failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Runs the Pulumi CLI (`input` on its stdin); returns its stdout, throws on a non-zero exit. */
export function pulumi(args: string[], input?: string): string {
    const r = spawnSync("pulumi", args, { encoding: "utf8", input, stdio: [input === undefined ? "inherit" : "pipe", "pipe", "inherit"] });
    if (r.status !== 0) throw new Error(`pulumi ${args.filter((a) => !a.startsWith("{")).join(" ")} exited ${r.status}`);
    return r.stdout;
}

function main(argv: string[]): void {
    const dry = argv.includes("--dry-run");
    const pgAt = argv.indexOf("--pg");
    const [primary, standby] = argv.filter((a, i) => !a.startsWith("--") && i !== pgAt + 1);
    if (!primary || pgAt < 0 || !argv[pgAt + 1]) {
        console.error("usage: npm run rotate-passwords -- <primaryStack> [standbyStack] --pg <host:port of the primary region's HAProxy primary port> [--dry-run]");
        process.exit(2);
    }
    const [host, port] = argv[pgAt + 1].split(":");
    const current = parseStandbyCredentials(standbyCredentialsFromOutputs(JSON.parse(pulumi(["stack", "output", "--json", "--show-secrets", "-s", primary]))));
    const next = { ...current, pgApp: newPassword(), pgMonitor: newPassword() };
    console.log(`1/3 ALTER ROLE ${POSTGRES_ROLES_DEFAULTS.appRole}, ${POSTGRES_ROLES_DEFAULTS.monitorRole} on the leader via ${host}:${port}`);
    if (!dry) alterRolePasswords({ host, port: Number(port), superuserPassword: current.pgSuperuser }, { app: next.pgApp, monitor: next.pgMonitor });
    const json = JSON.stringify(next);
    for (const [step, stack] of [["2/3", primary], ["3/3", standby]] as const) {
        if (!stack) continue;
        console.log(`${step} roll the secrets of ${stack}: pulumi config set --secret ${CONFIG_NAMESPACE}:standbyCredentials <json> -s ${stack} && pulumi up -s ${stack} --yes`);
        if (dry) continue;
        pulumi(["config", "set", "--secret", `${CONFIG_NAMESPACE}:standbyCredentials`, "-s", stack], json);
        pulumi(["up", "-s", stack, "--yes", "--skip-preview"]);
    }
}

if (require.main === module) main(process.argv.slice(2));
