/**
 * The roles the tiers log in with, created idempotently when Patroni bootstraps a new cluster:
 *
 * - the application role (LOGIN, owner of the application database; the backend uses it),
 * - the monitoring role (LOGIN, member of `pg_monitor`; postgres_exporter uses it).
 *
 * Why: Spilo's `post_init.sh` (zalando/spilo postgres-appliance/scripts/post_init.sh) creates or alters its
 * `admin` role `NOLOGIN`, and Patroni 4 (inside Spilo 4.0) dropped `bootstrap.users`, so before this no role
 * but the superuser and the replication user could log in.
 *
 * How: Patroni runs `bootstrap.post_init` once, after initdb, with a libpq connection string as its last
 * argument (patroni/postgresql/bootstrap.py `call_post_bootstrap`); a failure fails the bootstrap. Spilo sets
 * `post_init: /scripts/post_init.sh "<HUMAN_ROLE>"` (configure_spilo.py TEMPLATE); we replace it with
 * {@link renderPostInitScript}, which runs Spilo's script first (unchanged), then {@link renderRolesSql}
 * with psql. Passwords never appear in a rendered file: the script exports them from files into the
 * environment and the SQL reads them with psql's `\getenv` (psql >= 15) into quoted variables.
 * The standby region needs nothing: it is a physical copy of the primary, roles included.
 *
 * Pure: no Pulumi, no I/O.
 */

/** Names of the roles and the database. */
export interface PostgresRoles {
    /** Application role (LOGIN), owner of {@link appDatabase}. */
    readonly appRole: string;
    /** Application database. */
    readonly appDatabase: string;
    /** Monitoring role (LOGIN, member of pg_monitor). */
    readonly monitorRole: string;
}

/** Production names, and the environment variables the SQL reads the passwords from. */
export const POSTGRES_ROLES_DEFAULTS = {
    appRole: "opscenter_app",
    appDatabase: "opscenter",
    monitorRole: "opscenter_monitor",
    /** Connections the monitoring role may hold (postgres_exporter needs one or two). */
    monitorConnectionLimit: 5,
    passwordEnv: { app: "OPSCENTER_APP_PASSWORD", monitor: "OPSCENTER_MONITOR_PASSWORD" },
    /** Spilo's own post-init, run first with its usual first argument (HUMAN_ROLE, default "zalandos"). */
    spiloPostInit: "/scripts/post_init.sh",
} as const;

const IDENT_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const RESERVED = new Set(["postgres", "standby", "admin", "public", "pg_monitor", "template0", "template1", "zalandos", "robot_zmon", "cron_admin"]);

function fail(field: string, value: unknown, allowed: string): never {
    throw new Error(`postgres roles: ${field} = ${JSON.stringify(value)} is invalid: ${allowed}`);
}

/** Checks the names; throws naming the field, the value and what is allowed. */
export function validatePostgresRoles(r: PostgresRoles): void {
    for (const [field, v] of Object.entries(r)) {
        if (!IDENT_RE.test(v)) fail(field, v, "must be a lower-case SQL identifier: a-z, 0-9, _, not starting with a digit, at most 63");
        if (RESERVED.has(v) || v.startsWith("pg_")) fail(field, v, "must not be a role or database that Postgres or Spilo already uses");
    }
    if (r.appRole === r.monitorRole) fail("monitorRole", r.monitorRole, "must differ from appRole");
}

/** The roles to use: defaults overridden by `overrides`, validated. */
export function postgresRoles(overrides: Partial<PostgresRoles> = {}): PostgresRoles {
    const r: PostgresRoles = {
        appRole: overrides.appRole ?? POSTGRES_ROLES_DEFAULTS.appRole,
        appDatabase: overrides.appDatabase ?? POSTGRES_ROLES_DEFAULTS.appDatabase,
        monitorRole: overrides.monitorRole ?? POSTGRES_ROLES_DEFAULTS.monitorRole,
    };
    validatePostgresRoles(r);
    return r;
}

/**
 * The psql script (run as the superuser, connected to the `postgres` database): creates what is missing,
 * then sets what must hold (LOGIN, password, ownership, grants), so running it twice changes nothing and
 * running it again with a new password rotates it. Statement logging is off for the session, so the
 * passwords in ALTER ROLE never reach the server log (Spilo logs DDL: `log_statement: ddl`).
 */
export function renderRolesSql(r: PostgresRoles = postgresRoles()): string {
    validatePostgresRoles(r);
    const env = POSTGRES_ROLES_DEFAULTS.passwordEnv;
    const noPrivileges = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT";
    const ensureRole = (role: string) =>
        `SELECT 'CREATE ROLE ${role}' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${role}') \\gexec`;
    return [
        "-- Rendered by ops-center-ha: the application and monitoring roles. Idempotent; needs psql >= 15.",
        "\\set ON_ERROR_STOP on",
        `\\getenv app_password ${env.app}`,
        `\\getenv monitor_password ${env.monitor}`,
        // An unset variable stays `:'name'` in the statement: a syntax error, and ON_ERROR_STOP stops there.
        "SET log_statement = 'none';",
        "SET log_min_duration_statement = -1;",
        "SET password_encryption = 'scram-sha-256';",
        "",
        "-- Application role: logs in, owns its database, nothing more.",
        ensureRole(r.appRole),
        `ALTER ROLE ${r.appRole} WITH LOGIN ${noPrivileges} PASSWORD :'app_password';`,
        `SELECT 'CREATE DATABASE ${r.appDatabase} OWNER ${r.appRole}' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '${r.appDatabase}') \\gexec`,
        `ALTER DATABASE ${r.appDatabase} OWNER TO ${r.appRole};`,
        `REVOKE ALL ON DATABASE ${r.appDatabase} FROM PUBLIC;`,
        "",
        "-- Monitoring role: logs in, reads the statistics views (pg_stat_archiver, pg_stat_replication, ...).",
        ensureRole(r.monitorRole),
        `ALTER ROLE ${r.monitorRole} WITH LOGIN ${noPrivileges} CONNECTION LIMIT ${POSTGRES_ROLES_DEFAULTS.monitorConnectionLimit} PASSWORD :'monitor_password';`,
        `GRANT pg_monitor TO ${r.monitorRole};`,
        `GRANT CONNECT ON DATABASE ${r.appDatabase} TO ${r.monitorRole};`,
        "",
        "-- The application owns the public schema of its database (Postgres 15+: owned by pg_database_owner).",
        `\\connect ${r.appDatabase}`,
        "SET log_statement = 'none';",
        `ALTER SCHEMA public OWNER TO ${r.appRole};`,
        "",
    ].join("\n");
}

/** Input of {@link renderPostInitScript}. */
export interface PostInitInput {
    /** Absolute path of the rendered {@link renderRolesSql} file. */
    readonly sqlFile: string;
    /** Files holding the passwords (readable by the user Patroni runs as). */
    readonly passwordFiles: { readonly app: string; readonly monitor: string };
    /** Spilo's post-init to run first; omit for a plain Patroni (the chaos test). */
    readonly spiloPostInit?: string;
    /** psql to run; default "psql". */
    readonly psql?: string;
}

/**
 * POSIX-sh `bootstrap.post_init` command: Patroni calls it with the connection string as its last argument.
 * Runs Spilo's own post-init (if given), then the roles SQL. Exits non-zero on any failure (Patroni then
 * fails the bootstrap instead of leaving a cluster nobody can log in to).
 */
export function renderPostInitScript(input: PostInitInput): string {
    const pathRe = /^\/[A-Za-z0-9_./-]*$/;
    if (!pathRe.test(input.sqlFile)) fail("sqlFile", input.sqlFile, "must be an absolute path of letters, digits, _ . / -");
    for (const [k, v] of Object.entries(input.passwordFiles)) {
        if (!pathRe.test(v)) fail(`passwordFiles.${k}`, v, "must be an absolute path of letters, digits, _ . / -");
    }
    if (input.spiloPostInit !== undefined && !pathRe.test(input.spiloPostInit)) fail("spiloPostInit", input.spiloPostInit, "must be an absolute path");
    const psql = input.psql ?? "psql";
    if (!/^[A-Za-z0-9_./-]+$/.test(psql)) fail("psql", psql, "must be a command name or path");
    const env = POSTGRES_ROLES_DEFAULTS.passwordEnv;
    return [
        "#!/bin/sh",
        "# Rendered by ops-center-ha: Patroni's bootstrap.post_init. Last argument: the connection string.",
        "set -eu",
        'for conn in "$@"; do :; done',
        'if [ -z "${conn:-}" ]; then echo "post-init: no connection string argument" >&2; exit 2; fi',
        "read_password() {",
        '    if [ ! -r "$2" ]; then echo "post-init: password file $2 (for $1) is missing or unreadable" >&2; exit 1; fi',
        '    value=$(cat "$2")',
        '    if [ -z "$value" ]; then echo "post-init: password file $2 (for $1) is empty" >&2; exit 1; fi',
        '    export "$1=$value"',
        "}",
        ...(input.spiloPostInit !== undefined ? [`/bin/bash ${input.spiloPostInit} "\${HUMAN_ROLE:-zalandos}" "$conn"`] : []),
        `read_password ${env.app} "${input.passwordFiles.app}"`,
        `read_password ${env.monitor} "${input.passwordFiles.monitor}"`,
        "unset value",
        `exec ${psql} -X -q -d "$conn" -f "${input.sqlFile}"`,
        "",
    ].join("\n");
}
