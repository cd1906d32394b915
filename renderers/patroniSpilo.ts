/**
 * Spilo (Patroni 4 + Postgres + WAL-G in one image) as a Swarm service: the `SPILO_CONFIGURATION`
 * YAML, the environment (no secrets) and a POSIX-sh entrypoint that exports the passwords from
 * Swarm secret files before running Spilo's own `/launch.sh`.
 *
 * Pure: no Pulumi, no I/O. `renderers/patroni.ts` re-exports everything here.
 */
import { stringify } from "yaml";
import { PATRONI_DEFAULTS, PatroniSettings, StandbyClusterSource, patroniDcsSection, patroniSettings, validatePatroniSettings } from "./patroniDcs";
import { FenceGateInput, fenceGateLines } from "./fence";
import { walS3Prefix } from "./spiloPaths";
import { spiloCloneBootstrap, spiloCloneEnvironment, SpiloRestoreSource } from "./spiloRestore";

/** Backups of this region: WAL-G archiving and daily base backups to this region's bucket, SSE-KMS. */
export interface SpiloBackupSettings {
    /** This region's S3 bucket for WAL and base backups. */
    readonly bucket: string;
    /** AWS region of that bucket (this stack's region), e.g. "us-east-1". */
    readonly region: string;
    /** KMS key id, alias or ARN used for SSE-KMS on every upload. */
    readonly kmsKeyId: string;
    /** Base backups kept (older ones and their WAL are deleted); default 30. */
    readonly retainBackups?: number;
    /** Cron schedule (5 fields, UTC) of the base backup; default "0 1 * * *". */
    readonly schedule?: string;
}

/** The standby region's source: the primary region's leader endpoint and the replicated WAL archive. */
export interface SpiloStandbySource {
    /**
     * Every host that reaches the primary region's leader endpoint (the primary's data hosts: each publishes
     * HAProxy's leader port through the routing mesh), in order. Patroni passes them to libpq as
     * `host=a,b,c`, which tries the next one when one does not connect: no single primary host carries the
     * cross-region stream.
     */
    readonly primaryHosts: readonly string[];
    /** Port of that endpoint (5000 for HAProxy's leader port). */
    readonly primaryPort: number;
    /** Bucket in this region that receives the S3 replication of the primary region's bucket. */
    readonly replicatedBucket: string;
    /** The primary region's name, e.g. "us-east-1" (part of its WAL path). */
    readonly primaryRegion: string;
}

/** One Spilo member (one Swarm service). */
export interface SpiloMemberInput {
    /** "primary": the writable cluster; "standby": a standby cluster streaming from the primary region. */
    readonly role: "primary" | "standby";
    /** Cluster name, identical on every member of the cluster (Spilo `SCOPE`, part of the WAL path). */
    readonly scope: string;
    /** This member's stable name (Patroni `name`; Swarm task hostnames change on restart). */
    readonly memberName: string;
    /** Host name the other members and HAProxy use to reach this member (its Swarm service name). */
    readonly connectHost: string;
    /** etcd v3 client endpoints, "host:port". */
    readonly etcdHosts: readonly string[];
    /** This region's backups. */
    readonly backup: SpiloBackupSettings;
    /** Required when role is "standby". */
    readonly standby?: SpiloStandbySource;
    /** DCS timings and replication settings; default PATRONI_DEFAULTS. */
    readonly settings?: PatroniSettings;
    /** Patroni DCS key prefix; default PATRONI_DEFAULTS.namespace. */
    readonly namespace?: string;
    /** Postgres major version run by the image (`PGVERSION`); default 16. */
    readonly pgVersion?: number;
    /**
     * Point-in-time restore: a NEW cluster (its own `scope`) bootstraps by Spilo's clone_with_wale from these backups
     * up to the target time (renderers/spiloRestore.ts). Primary role only. Ignored by Patroni once the cluster exists.
     */
    readonly restore?: SpiloRestoreSource;
}

/** Swarm secret file names holding the passwords (under /run/secrets). */
export interface SpiloSecretFiles {
    /** File with the superuser's password (Spilo PGPASSWORD_SUPERUSER). */
    readonly superuser: string;
    /** File with the replication user's password (Spilo PGPASSWORD_STANDBY); the standby region uses the same secret value. */
    readonly replication: string;
    /** File with the application role's password (read by the post-init, see renderers/postgresRoles.ts). */
    readonly app: string;
    /** File with the monitoring role's password (read by the post-init). */
    readonly monitor: string;
}

/** Production defaults for Spilo specifics. */
export const SPILO_DEFAULTS = {
    retainBackups: 30,
    backupSchedule: "0 1 * * *",
    secretsDir: "/run/secrets",
    secretFiles: { superuser: "pg_superuser_password", replication: "pg_replication_password", app: "pg_app_password", monitor: "pg_monitor_password" },
    launchScript: "/launch.sh",
    /**
     * The user Patroni (and so the post-init) runs as inside Spilo. Spilo's launch.sh runs as root and starts
     * Patroni as `postgres`; the entrypoint copies the role passwords to {@link runtimeDir} owned by that user.
     */
    postgresUser: "postgres",
    /** Where the entrypoint puts the role passwords for the post-init (tmpfs /run, mode 0700, owned by postgresUser). */
    runtimeDir: "/run/ops-center",
    /** Swarm config files mounted into the Spilo container. */
    entrypointFile: "/etc/ops-center/spilo-entrypoint.sh",
    postInitFile: "/etc/ops-center/post-init.sh",
    rolesSqlFile: "/etc/ops-center/roles.sql",
    /**
     * Container health check path on Patroni's REST API. `/liveness` answers 200 while Patroni's HA loop runs,
     * including while a replica is being built (base backup, WAL restore) or recovers; `/health` answers 503
     * until Postgres runs, so a health check on it kills a replica that needs longer than its budget to build,
     * forever. Routing (HAProxy) uses `/primary`, `/standby-leader` and `/replica`.
     */
    livenessPath: "/liveness",
    /**
     * Kernel TCP SYN retries in the Spilo container's network namespace: 2 gives up on a silent host after
     * about 7 s (1 + 2 + 4), so libpq moves on to the next primary host instead of waiting about 2 minutes
     * (Linux default 6). libpq's own `connect_timeout` cannot be set through Patroni's `standby_cluster`.
     */
    tcpSynRetries: 2,
    /** Where Spilo writes the WAL-G environment for a standby cluster (RW_DIR/etc/wal-e.d/env-standby). */
    standbyEnvDir: "/run/etc/wal-e.d/env-standby",
    /** Spilo's replica creation methods for a standby cluster: WAL-G from the archive, then pg_basebackup. */
    standbyCreateReplicaMethods: ["bootstrap_standby_with_wale", "basebackup_fast_xlog"],
} as const;

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HOST_RE = /^[A-Za-z0-9.-]+$/;

function fail(field: string, value: unknown, allowed: string): never {
    throw new Error(`spilo: ${field} = ${JSON.stringify(value)} is invalid: ${allowed}`);
}

function checkHostPort(field: string, v: string): void {
    const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) fail(field, v, 'must be "host:port"');
}

/**
 * The Patroni member name of member `index` (1-based) in `region`. Unique per region: the name is the
 * `application_name` a member streams with, so a standby-region member named like a primary-region member
 * could satisfy the primary's `synchronous_standby_names` while the real synchronous replica lags.
 */
export function spiloMemberName(region: string, index: number): string {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) fail("region", region, 'must be an AWS region such as "us-east-1"');
    if (!Number.isInteger(index) || index < 1 || index > 9) fail("index", index, "must be an integer from 1 to 9");
    return `${region}-pg-${index}`;
}

export { walS3Prefix } from "./spiloPaths";

function validateMember(m: SpiloMemberInput): { settings: PatroniSettings; pgVersion: number; retain: number; schedule: string } {
    if (m.role !== "primary" && m.role !== "standby") fail("role", m.role, 'must be "primary" or "standby"');
    if (!NAME_RE.test(m.scope)) fail("scope", m.scope, "must be lower-case letters, digits and -, at most 63");
    if (!NAME_RE.test(m.memberName)) fail("memberName", m.memberName, "must be lower-case letters, digits and -, at most 63");
    if (!HOST_RE.test(m.connectHost)) fail("connectHost", m.connectHost, "must be a host name or IPv4 address");
    if (m.etcdHosts.length < 1) fail("etcdHosts", m.etcdHosts, "must list at least one etcd endpoint (3 in production)");
    m.etcdHosts.forEach((h, i) => checkHostPort(`etcdHosts[${i}]`, h));
    const b = m.backup;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b.bucket)) fail("backup.bucket", b.bucket, "must be an S3 bucket name");
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(b.region)) fail("backup.region", b.region, 'must be an AWS region such as "us-east-1"');
    if (!/^[A-Za-z0-9:/_.-]+$/.test(b.kmsKeyId)) fail("backup.kmsKeyId", b.kmsKeyId, "must be a KMS key id, alias or ARN");
    const retain = b.retainBackups ?? SPILO_DEFAULTS.retainBackups;
    if (!Number.isInteger(retain) || retain < 1 || retain > 1000) fail("backup.retainBackups", retain, "must be an integer from 1 to 1000");
    const schedule = b.schedule ?? SPILO_DEFAULTS.backupSchedule;
    if (!/^\S+( \S+){4}$/.test(schedule)) fail("backup.schedule", schedule, "must be a 5-field cron expression");
    const pgVersion = m.pgVersion ?? PATRONI_DEFAULTS.pgVersion;
    if (!Number.isInteger(pgVersion) || pgVersion < 13 || pgVersion > 17) fail("pgVersion", pgVersion, "must be 13 to 17 (spilo-17)");
    if (m.namespace !== undefined && !/^\/[A-Za-z0-9_/-]*\/$/.test(m.namespace)) fail("namespace", m.namespace, 'must look like "/service/"');
    if (m.role === "standby") {
        const s = m.standby;
        if (!s) fail("standby", s, 'is required when role is "standby"');
        if (s.primaryHosts.length < 1) fail("standby.primaryHosts", s.primaryHosts, "must list at least one host (every primary data host, so that none is a single point of failure)");
        s.primaryHosts.forEach((h, i) => HOST_RE.test(h) || fail(`standby.primaryHosts[${i}]`, h, "must be a host name or IPv4 address"));
        if (new Set(s.primaryHosts).size !== s.primaryHosts.length) fail("standby.primaryHosts", s.primaryHosts, "must not repeat a host");
        if (!Number.isInteger(s.primaryPort) || s.primaryPort < 1 || s.primaryPort > 65535) fail("standby.primaryPort", s.primaryPort, "must be a TCP port");
        if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s.replicatedBucket)) fail("standby.replicatedBucket", s.replicatedBucket, "must be an S3 bucket name");
        if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(s.primaryRegion)) fail("standby.primaryRegion", s.primaryRegion, "must be an AWS region");
        if (s.primaryRegion === b.region) fail("standby.primaryRegion", s.primaryRegion, "must differ from backup.region (the standby runs in the other region)");
    } else if (m.standby !== undefined) {
        fail("standby", "(set)", 'must be omitted when role is "primary"');
    }
    if (m.restore !== undefined) {
        if (m.role !== "primary") fail("restore", "(set)", 'must be omitted when role is "standby" (a standby cluster copies its primary)');
        if (m.restore.fromScope === m.scope) fail("restore.fromScope", m.restore.fromScope, "must differ from scope: the restored cluster is a new one, with its own DCS keys and WAL path");
    }
    const settings = m.settings ?? patroniSettings();
    validatePatroniSettings(settings);
    return { settings, pgVersion, retain, schedule };
}

/** The standby_cluster source Spilo uses: stream from the primary region, WAL-G from the replicated bucket as fallback. */
export function spiloStandbyCluster(src: SpiloStandbySource): StandbyClusterSource {
    return {
        host: src.primaryHosts.join(","),
        port: src.primaryPort,
        createReplicaMethods: [...SPILO_DEFAULTS.standbyCreateReplicaMethods],
        restoreCommand: `envdir "${SPILO_DEFAULTS.standbyEnvDir}" timeout "0" /scripts/restore_command.sh "%f" "%p"`,
    };
}

/**
 * `SPILO_CONFIGURATION`: YAML that Spilo merges over its generated patroni.yml (ours wins key by key).
 * Holds the DCS section (same as {@link renderPatroniYaml}'s), etcd hosts, stable member name and addresses.
 * Spilo keeps its own pg_hba (SSL required, md5/scram), SSL certificates, archive_command and WAL-G wiring.
 */
export function renderSpiloConfiguration(m: SpiloMemberInput): string {
    const { settings } = validateMember(m);
    const standby = m.role === "standby" && m.standby ? spiloStandbyCluster(m.standby) : undefined;
    const cfg = {
        namespace: m.namespace ?? PATRONI_DEFAULTS.namespace,
        // post_init replaces Spilo's `/scripts/post_init.sh "<HUMAN_ROLE>"`; ours runs Spilo's first, then the roles SQL.
        bootstrap: {
            dcs: patroniDcsSection(settings, standby),
            post_init: `/bin/sh ${SPILO_DEFAULTS.postInitFile}`,
            // The same section Spilo's template renders from CLONE_* (renderers/spiloRestore.ts); ours wins key by key.
            ...(m.restore ? spiloCloneBootstrap({ fromScope: m.restore.fromScope, targetTime: m.restore.targetTime }) : {}),
        },
        etcd3: { hosts: [...m.etcdHosts] },
        restapi: { connect_address: `${m.connectHost}:${PATRONI_DEFAULTS.restApiPort}` },
        postgresql: {
            name: m.memberName,
            connect_address: `${m.connectHost}:${PATRONI_DEFAULTS.postgresPort}`,
            // An old primary whose pg_rewind fails is rebuilt from the leader instead of staying out.
            remove_data_directory_on_rewind_failure: true,
        },
    };
    return stringify(cfg, { version: "1.1", lineWidth: 0 });
}

/**
 * Environment variables of the Spilo service (name -> value). No secret: passwords come from
 * {@link renderSpiloEntrypoint}; S3 credentials from the EC2 instance role (Spilo sets AWS_INSTANCE_PROFILE
 * itself when no keys are given; the instance metadata hop limit must be 2 for a container to reach it).
 */
export function spiloEnvironment(m: SpiloMemberInput): Record<string, string> {
    const { pgVersion, retain, schedule } = validateMember(m);
    const b = m.backup;
    const prefix = walS3Prefix(b.bucket, m.scope, b.region, pgVersion);
    const env: Record<string, string> = {
        SCOPE: m.scope,
        PGVERSION: String(pgVersion),
        // "local": no EC2 tagging callback, no instance-IP connect address (we render them explicitly).
        SPILO_PROVIDER: "local",
        PGUSER_SUPERUSER: PATRONI_DEFAULTS.superuserName,
        PGUSER_STANDBY: PATRONI_DEFAULTS.replicationUserName,
        USE_WALG_BACKUP: "true",
        USE_WALG_RESTORE: "true",
        WAL_S3_BUCKET: b.bucket,
        WALG_S3_PREFIX: prefix,
        WALE_S3_PREFIX: prefix,
        AWS_REGION: b.region,
        WALG_S3_SSE: "aws:kms",
        WALG_S3_SSE_KMS_ID: b.kmsKeyId,
        BACKUP_NUM_TO_RETAIN: String(retain),
        BACKUP_SCHEDULE: schedule,
        SPILO_CONFIGURATION: renderSpiloConfiguration(m),
    };
    if (m.restore) Object.assign(env, spiloCloneEnvironment(m.restore, pgVersion));
    if (m.role === "standby" && m.standby) {
        // Spilo writes these into SPILO_DEFAULTS.standbyEnvDir for the standby cluster's restore_command.
        const src = walS3Prefix(m.standby.replicatedBucket, m.scope, m.standby.primaryRegion, pgVersion);
        env.STANDBY_WALG_S3_PREFIX = src;
        env.STANDBY_WALE_S3_PREFIX = src;
        env.STANDBY_AWS_REGION = b.region;
        env.STANDBY_USE_WALG_RESTORE = "true";
    }
    return env;
}

/** Input of {@link renderSpiloEntrypoint}. */
export interface SpiloEntrypointInput {
    /** Secret file names under `secretsDir`; default SPILO_DEFAULTS.secretFiles. */
    readonly secretFiles?: SpiloSecretFiles;
    /** Directory of the secret files; default "/run/secrets". */
    readonly secretsDir?: string;
    /** Spilo's own entrypoint, exec'd at the end; default "/launch.sh" (called with "init" when no arguments). */
    readonly launchScript?: string;
    /** Directory the role passwords are copied to for the post-init; default SPILO_DEFAULTS.runtimeDir. */
    readonly runtimeDir?: string;
    /** Owner of the copies (the user Patroni runs as); default SPILO_DEFAULTS.postgresUser. */
    readonly postgresUser?: string;
    /**
     * The region fence's start gate (renderers/fence.ts), run before anything else: a member rendered as a primary
     * of a region another region was promoted away from stays down. The fence volume is mounted at its `dir`.
     */
    readonly fence?: FenceGateInput;
}

/** The files the post-init reads the role passwords from (copies the entrypoint makes). */
export function spiloRolePasswordFiles(runtimeDir: string = SPILO_DEFAULTS.runtimeDir, files: SpiloSecretFiles = SPILO_DEFAULTS.secretFiles): { app: string; monitor: string } {
    return { app: `${runtimeDir}/${files.app}`, monitor: `${runtimeDir}/${files.monitor}` };
}

/**
 * POSIX-sh wrapper used as the Spilo service's entrypoint (runs as root, like Spilo's launch.sh): exports
 * PGPASSWORD_SUPERUSER and PGPASSWORD_STANDBY from the secret files, copies the application and monitoring
 * role passwords to `runtimeDir` readable only by the postgres user (Patroni runs the post-init as that user),
 * fails clearly if a secret is missing or empty, then execs Spilo.
 */
export function renderSpiloEntrypoint(input: SpiloEntrypointInput = {}): string {
    const files = input.secretFiles ?? SPILO_DEFAULTS.secretFiles;
    const dir = input.secretsDir ?? SPILO_DEFAULTS.secretsDir;
    const launch = input.launchScript ?? SPILO_DEFAULTS.launchScript;
    const runtimeDir = input.runtimeDir ?? SPILO_DEFAULTS.runtimeDir;
    const owner = input.postgresUser ?? SPILO_DEFAULTS.postgresUser;
    const pathRe = /^\/[A-Za-z0-9_./-]*$/;
    if (!pathRe.test(runtimeDir)) fail("runtimeDir", runtimeDir, "must be an absolute path of letters, digits, _ . / -");
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(owner)) fail("postgresUser", owner, "must be a user name");
    const copies = spiloRolePasswordFiles(runtimeDir, files);
    if (!pathRe.test(dir)) fail("secretsDir", dir, "must be an absolute path of letters, digits, _ . / -");
    if (!pathRe.test(launch)) fail("launchScript", launch, "must be an absolute path of letters, digits, _ . / -");
    for (const [k, v] of Object.entries(files)) {
        if (!/^[A-Za-z0-9_.-]+$/.test(v)) fail(`secretFiles.${k}`, v, "must be a file name of letters, digits, _ . -");
    }
    return [
        "#!/bin/sh",
        "# Rendered by ops-center-ha. Exports Spilo's password variables from Swarm secret files, then runs Spilo.",
        "set -eu",
        "prog=spilo-entrypoint",
        ...(input.fence ? fenceGateLines(input.fence) : []),
        "read_secret() {",
        '    if [ ! -r "$2" ]; then',
        '        echo "spilo-entrypoint: secret file $2 (for $1) is missing or unreadable" >&2',
        "        exit 1",
        "    fi",
        '    secret_value=$(cat "$2")',
        '    if [ -z "$secret_value" ]; then',
        '        echo "spilo-entrypoint: secret file $2 (for $1) is empty" >&2',
        "        exit 1",
        "    fi",
        '    export "$1=$secret_value"',
        "}",
        `read_secret PGPASSWORD_SUPERUSER "${dir}/${files.superuser}"`,
        `read_secret PGPASSWORD_STANDBY "${dir}/${files.replication}"`,
        "unset secret_value",
        "copy_secret() {",
        '    if [ ! -s "$1" ]; then',
        '        echo "spilo-entrypoint: secret file $1 is missing or empty" >&2',
        "        exit 1",
        "    fi",
        `    install -m 0400 -o ${owner} -g ${owner} "$1" "$2"`,
        "}",
        `install -d -m 0700 -o ${owner} -g ${owner} "${runtimeDir}"`,
        `copy_secret "${dir}/${files.app}" "${copies.app}"`,
        `copy_secret "${dir}/${files.monitor}" "${copies.monitor}"`,
        'if [ "$#" -eq 0 ]; then set -- init; fi',
        `exec /bin/sh ${launch} "$@"`,
        "",
    ].join("\n");
}
