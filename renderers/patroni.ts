/**
 * Postgres via Patroni: the entry point of the Patroni renderers.
 *
 * - DCS settings, defaults, validation and implied failover times: `./patroniDcs` (re-exported).
 * - Spilo (production container) configuration, environment and entrypoint: `./patroniSpilo` (re-exported).
 * - Here: {@link renderPatroniYaml}, a complete Patroni config for one member with the same `bootstrap.dcs`
 *   section as Spilo's, used by the chaos test with Debian's Patroni and Postgres.
 *
 * Pure: no Pulumi, no I/O. No password is ever rendered: Patroni reads PATRONI_SUPERUSER_PASSWORD and
 * PATRONI_REPLICATION_PASSWORD from its environment (merged over the file).
 */
import { stringify } from "yaml";
import { PATRONI_DEFAULTS, PatroniSettings, StandbyClusterSource, patroniDcsSection, patroniSettings } from "./patroniDcs";
import { CloneBootstrapInput, spiloCloneBootstrap } from "./spiloRestore";

export * from "./patroniDcs";
export * from "./patroniSpilo";
export * from "./spiloRestore";

/** One Patroni member, for a plain (non-Spilo) Patroni install. */
export interface PatroniMember {
    /** Cluster name shared by all members (Patroni `scope`). */
    readonly scope: string;
    /** DCS key prefix (Patroni `namespace`), e.g. "/service/"; tests use a fresh one per run. */
    readonly namespace: string;
    /** This member's unique, stable name. */
    readonly name: string;
    /** etcd v3 client endpoints, "host:port" (Patroni's etcd3 client needs etcd >= 3.4). */
    readonly etcdHosts: readonly string[];
    /** REST API listen address, "host:port" (HAProxy checks it). */
    readonly restApiListen: string;
    /** REST API address other members and HAProxy use, "host:port". */
    readonly restApiConnect: string;
    /** Postgres listen address, "host:port" (host may be "0.0.0.0"). */
    readonly pgListen: string;
    /** Postgres address other members use, "host:port". */
    readonly pgConnect: string;
    /** Data directory (absolute path, owned by the postgres user). */
    readonly dataDir: string;
    /** Directory of the Postgres binaries, e.g. /usr/lib/postgresql/15/bin. */
    readonly binDir: string;
    /** Directory for the Unix socket (absolute path). */
    readonly socketDir: string;
    /** Where Patroni writes the pgpass file it uses for replication and rewind (absolute path). */
    readonly pgpassFile: string;
    /** Postgres `archive_command` (archive_mode is on in the DCS section), e.g. WAL-G wal-push or a copy. */
    readonly archiveCommand: string;
    /** Networks (CIDR) allowed to connect over TCP, for clients and replication (scram-sha-256). */
    readonly clientCidrs: readonly string[];
    /** DCS timings and replication settings; default PATRONI_DEFAULTS. */
    readonly settings?: PatroniSettings;
    /** Set for a standby cluster (standby region): where it streams from. */
    readonly standby?: StandbyClusterSource;
    /** Superuser name; default PATRONI_DEFAULTS.superuserName. Password: env PATRONI_SUPERUSER_PASSWORD. */
    readonly superuserName?: string;
    /** Replication user name; default PATRONI_DEFAULTS.replicationUserName. Password: env PATRONI_REPLICATION_PASSWORD. */
    readonly replicationUserName?: string;
    /** `bootstrap.post_init` command (e.g. `/bin/sh <renderPostInitScript file>`); Patroni appends the connection string. */
    readonly postInit?: string;
    /**
     * Bootstrap a new cluster by Spilo's clone_with_wale section (renderers/spiloRestore.ts) instead of initdb; the
     * bench passes its local-directory stand-ins for the two WAL-G commands.
     */
    readonly clone?: CloneBootstrapInput;
}

function fail(field: string, value: unknown, allowed: string): never {
    throw new Error(`patroni: ${field} = ${JSON.stringify(value)} is invalid: ${allowed}`);
}

function checkHostPort(field: string, v: string): void {
    const m = /^([A-Za-z0-9.,-]+):(\d{1,5})$/.exec(v);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) fail(field, v, 'must be "host:port" with a port from 1 to 65535');
}

function checkPath(field: string, v: string): void {
    if (!/^\/[A-Za-z0-9_./-]*$/.test(v)) fail(field, v, "must be an absolute path of letters, digits, _ . / -");
}

function checkCidr(field: string, v: string): void {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) fail(field, v, 'must be an IPv4 CIDR such as "10.0.0.0/8"');
}

function validateMember(m: PatroniMember): void {
    const nameRe = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
    if (!nameRe.test(m.scope)) fail("scope", m.scope, "must be letters, digits, _ and -, at most 63");
    if (!nameRe.test(m.name)) fail("name", m.name, "must be letters, digits, _ and -, at most 63");
    if (!/^\/[A-Za-z0-9_/-]*\/$/.test(m.namespace)) fail("namespace", m.namespace, 'must start and end with "/", e.g. "/service/"');
    if (m.etcdHosts.length < 1) fail("etcdHosts", m.etcdHosts, "must list at least one etcd endpoint (3 in production)");
    m.etcdHosts.forEach((h, i) => checkHostPort(`etcdHosts[${i}]`, h));
    checkHostPort("restApiListen", m.restApiListen);
    checkHostPort("restApiConnect", m.restApiConnect);
    checkHostPort("pgListen", m.pgListen);
    checkHostPort("pgConnect", m.pgConnect);
    checkPath("dataDir", m.dataDir);
    checkPath("binDir", m.binDir);
    checkPath("socketDir", m.socketDir);
    checkPath("pgpassFile", m.pgpassFile);
    if (m.archiveCommand.trim() === "" || /[\r\n]/.test(m.archiveCommand)) fail("archiveCommand", m.archiveCommand, "must be one non-empty line");
    if (m.clientCidrs.length < 1) fail("clientCidrs", m.clientCidrs, "must list at least one CIDR");
    m.clientCidrs.forEach((c, i) => checkCidr(`clientCidrs[${i}]`, c));
    const userRe = /^[a-z_][a-z0-9_]{0,62}$/;
    if (m.superuserName !== undefined && !userRe.test(m.superuserName)) fail("superuserName", m.superuserName, "must be a lower-case role name");
    if (m.replicationUserName !== undefined && !userRe.test(m.replicationUserName)) fail("replicationUserName", m.replicationUserName, "must be a lower-case role name");
    if (m.postInit !== undefined && !/^[A-Za-z0-9_./ -]+$/.test(m.postInit)) fail("postInit", m.postInit, "must be a command of letters, digits, spaces, _ . / -");
}

/** The pg_hba lines: local peer for the postgres OS user, scram-sha-256 over TCP from `clientCidrs`. */
export function patroniPgHba(m: Pick<PatroniMember, "clientCidrs" | "replicationUserName">): string[] {
    const repl = m.replicationUserName ?? PATRONI_DEFAULTS.replicationUserName;
    const lines = ["local all all peer", `local replication ${repl} peer`];
    for (const c of m.clientCidrs) lines.push(`host replication ${repl} ${c} scram-sha-256`);
    for (const c of m.clientCidrs) lines.push(`host all all ${c} scram-sha-256`);
    return lines;
}

/**
 * A complete Patroni YAML config for one member: scope/namespace/name, `restapi`, `etcd3` hosts,
 * `bootstrap.dcs` (identical to Spilo's, from {@link patroniDcsSection}), `postgresql` with
 * listen/connect_address/data_dir/bin_dir, authentication user names (passwords from the environment)
 * and pg_hba.
 */
export function renderPatroniYaml(m: PatroniMember): string {
    validateMember(m);
    const settings = m.settings ?? patroniSettings();
    const cfg = {
        scope: m.scope,
        namespace: m.namespace,
        name: m.name,
        restapi: { listen: m.restApiListen, connect_address: m.restApiConnect },
        etcd3: { hosts: [...m.etcdHosts] },
        bootstrap: {
            dcs: patroniDcsSection(settings, m.standby),
            initdb: [{ encoding: "UTF8" }, "data-checksums"],
            ...(m.postInit !== undefined ? { post_init: m.postInit } : {}),
            ...(m.clone ? spiloCloneBootstrap(m.clone) : {}),
        },
        postgresql: {
            listen: m.pgListen,
            connect_address: m.pgConnect,
            data_dir: m.dataDir,
            bin_dir: m.binDir,
            pgpass: m.pgpassFile,
            use_unix_socket: true,
            remove_data_directory_on_rewind_failure: true,
            // pg_basebackup starts with a fast checkpoint: a spread one (the default) paces the dirty buffers over
            // most of checkpoint_timeout, minutes after the post-init's CREATE DATABASE. Spilo's basebackup.sh
            // (zalando/spilo postgres-appliance/scripts/basebackup.sh) uses the default: a Spilo replica can spend
            // minutes in it, one more reason its health check asks /liveness, not /health.
            basebackup: [{ checkpoint: "fast" }],
            authentication: {
                superuser: { username: m.superuserName ?? PATRONI_DEFAULTS.superuserName },
                replication: { username: m.replicationUserName ?? PATRONI_DEFAULTS.replicationUserName },
            },
            parameters: {
                unix_socket_directories: m.socketDir,
                archive_command: m.archiveCommand,
                password_encryption: "scram-sha-256",
            },
            pg_hba: patroniPgHba(m),
        },
    };
    return stringify(cfg, { version: "1.1", lineWidth: 0 });
}
