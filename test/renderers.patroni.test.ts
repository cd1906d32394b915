import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
    PATRONI_DEFAULTS,
    SPILO_DEFAULTS,
    SpiloMemberInput,
    impliedFailoverSeconds,
    patroniSettings,
    renderPatroniYaml,
    renderSpiloConfiguration,
    renderSpiloEntrypoint,
    spiloEnvironment,
    spiloMemberName,
} from "../renderers/patroni";

const primary: SpiloMemberInput = {
    role: "primary",
    scope: "ops-center",
    memberName: "pg-1",
    connectHost: "pg-1",
    etcdHosts: ["etcd-1:2379", "etcd-2:2379", "etcd-3:2379"],
    backup: { bucket: "oc-wal-us-east-1", region: "us-east-1", kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/abcd-1234" },
};
const standby: SpiloMemberInput = {
    ...primary,
    role: "standby",
    backup: { bucket: "oc-wal-us-west-2", region: "us-west-2", kmsKeyId: "alias/oc-wal" },
    standby: { primaryHosts: ["10.10.20.10", "10.10.21.10", "10.10.22.10"], primaryPort: 5000, replicatedBucket: "oc-wal-us-west-2", primaryRegion: "us-east-1" },
};
const member = {
    scope: "ops-center",
    namespace: "/service/",
    name: "pg-1",
    etcdHosts: ["10.0.1.10:2379", "10.0.2.10:2379", "10.0.3.10:2379"],
    restApiListen: "0.0.0.0:8008",
    restApiConnect: "10.0.1.20:8008",
    pgListen: "0.0.0.0:5432",
    pgConnect: "10.0.1.20:5432",
    dataDir: "/var/lib/postgresql/data",
    binDir: "/usr/lib/postgresql/16/bin",
    socketDir: "/var/run/postgresql",
    pgpassFile: "/tmp/pgpass",
    archiveCommand: "wal-g wal-push %p",
    clientCidrs: ["10.0.0.0/16"],
};
const yml = (text: string) => parse(text, { version: "1.1" }) as Record<string, any>;

describe("patroni settings", () => {
    it("ships timings Patroni 4 keeps: ttl 20, loop_wait 2, retry_timeout 5, loop_wait + 2*retry_timeout <= ttl", () => {
        assert.equal(PATRONI_DEFAULTS.ttl, 20);
        assert.equal(PATRONI_DEFAULTS.loopWait, 2);
        assert.equal(PATRONI_DEFAULTS.retryTimeout, 5);
        assert.equal(PATRONI_DEFAULTS.primaryStartTimeout, 10);
        assert.ok(PATRONI_DEFAULTS.loopWait + 2 * PATRONI_DEFAULTS.retryTimeout <= PATRONI_DEFAULTS.ttl);
        assert.doesNotThrow(() => patroniSettings());
    });

    it("rejects values Patroni would silently change, naming the field", () => {
        assert.throws(() => patroniSettings({ ttl: 10 }), /ttl = 10 .*20/);
        assert.throws(() => patroniSettings({ loopWait: 10, retryTimeout: 6 }), /loopWait \+ 2\*retryTimeout = .*22 exceeds ttl = 20/);
        assert.throws(() => patroniSettings({ retryTimeout: 2 }), /retryTimeout = 2/);
        assert.throws(() => patroniSettings({ loopWait: 0 }), /loopWait = 0/);
        assert.throws(() => patroniSettings({ archiveTimeoutSeconds: 1800 }), /archiveTimeoutSeconds = 1800 .*RPO/);
    });

    it("states the failover time the values imply", () => {
        const f = impliedFailoverSeconds(patroniSettings());
        assert.deepEqual(f.hostCrash, { min: 18, max: 22, typical: 20 });
        assert.equal(f.switchover, 2);
        assert.equal(f.postmasterCrash, 2);
        assert.equal(f.crashRecoveryLimit, 10);
        assert.match(f.summary, /host crash.*about 20 s/);
    });
});

describe("renderSpiloConfiguration", () => {
    it("renders the DCS section with fast, safe failover and RPO settings", () => {
        const cfg = yml(renderSpiloConfiguration(primary));
        const dcs = cfg.bootstrap.dcs;
        assert.equal(dcs.ttl, 20);
        assert.equal(dcs.loop_wait, 2);
        assert.equal(dcs.retry_timeout, 5);
        assert.equal(dcs.primary_start_timeout, 10);
        assert.equal(dcs.synchronous_mode, true);
        // Stated, not left to Patroni's defaults: one synchronous standby, and the leader keeps taking writes when no
        // replica is left (README "Postgres: three members and synchronous replication").
        assert.equal(dcs.synchronous_node_count, 1);
        assert.equal(dcs.synchronous_mode_strict, false);
        assert.equal(dcs.maximum_lag_on_failover, 1048576);
        assert.equal(dcs.postgresql.use_pg_rewind, true);
        const p = dcs.postgresql.parameters;
        assert.equal(p.recovery_init_sync_method, "syncfs", "crash recovery syncs the file system once, not every file");
        assert.equal(p.archive_timeout, 60);
        assert.equal(p.wal_level, "replica");
        assert.equal(p.hot_standby, "on", "quoted so that YAML 1.1 (PyYAML) keeps a string");
        assert.equal(p.wal_log_hints, "on");
        assert.equal(p.max_wal_senders, 10);
        assert.equal(p.max_replication_slots, 10);
        assert.equal(dcs.standby_cluster, undefined);
        assert.deepEqual(cfg.etcd3.hosts, primary.etcdHosts);
        assert.equal(cfg.postgresql.name, "pg-1");
        assert.equal(cfg.postgresql.connect_address, "pg-1:5432");
        assert.equal(cfg.restapi.connect_address, "pg-1:8008");
    });

    it("renders a standby cluster streaming from the primary region with a WAL-G restore_command fallback", () => {
        const sc = yml(renderSpiloConfiguration(standby)).bootstrap.dcs.standby_cluster;
        assert.equal(sc.host, "10.10.20.10,10.10.21.10,10.10.22.10", "every primary data host, for libpq multi-host");
        assert.equal(sc.port, 5000);
        assert.deepEqual(sc.create_replica_methods, ["bootstrap_standby_with_wale", "basebackup_fast_xlog"]);
        assert.equal(sc.restore_command, `envdir "${SPILO_DEFAULTS.standbyEnvDir}" timeout "0" /scripts/restore_command.sh "%f" "%p"`);
    });

    it("rejects inconsistent roles and bad inputs, naming the field", () => {
        assert.throws(() => renderSpiloConfiguration({ ...standby, standby: undefined }), /standby = .*required/);
        assert.throws(() => renderSpiloConfiguration({ ...primary, standby: standby.standby }), /standby = .*omitted/);
        assert.throws(() => renderSpiloConfiguration({ ...primary, etcdHosts: ["etcd-1"] }), /etcdHosts\[0\] = "etcd-1"/);
        assert.throws(() => renderSpiloConfiguration({ ...primary, backup: { ...primary.backup, region: "east" } }), /backup.region = "east"/);
        assert.throws(() => renderSpiloConfiguration({ ...standby, standby: { ...standby.standby!, primaryRegion: "us-west-2" } }), /standby.primaryRegion .*must differ/);
    });
});

describe("spiloEnvironment", () => {
    it("configures WAL-G archiving and daily base backups to this region's bucket with SSE-KMS, 30 kept", () => {
        const env = spiloEnvironment(primary);
        assert.equal(env.USE_WALG_BACKUP, "true");
        assert.equal(env.USE_WALG_RESTORE, "true");
        assert.equal(env.WAL_S3_BUCKET, "oc-wal-us-east-1");
        assert.equal(env.WALG_S3_PREFIX, "s3://oc-wal-us-east-1/spilo/ops-center/us-east-1/wal/16");
        assert.equal(env.WALE_S3_PREFIX, env.WALG_S3_PREFIX);
        assert.equal(env.AWS_REGION, "us-east-1");
        assert.equal(env.WALG_S3_SSE, "aws:kms");
        assert.equal(env.WALG_S3_SSE_KMS_ID, primary.backup.kmsKeyId);
        assert.equal(env.BACKUP_NUM_TO_RETAIN, "30");
        assert.equal(env.BACKUP_SCHEDULE, "0 1 * * *");
        assert.equal(env.PGVERSION, "16");
        assert.equal(env.SCOPE, "ops-center");
        assert.equal(env.SPILO_CONFIGURATION, renderSpiloConfiguration(primary));
        assert.equal(env.STANDBY_WALG_S3_PREFIX, undefined);
    });

    it("uses the instance role: no AWS keys and no password in the environment", () => {
        for (const input of [primary, standby]) {
            const env = spiloEnvironment(input);
            for (const k of Object.keys(env)) assert.doesNotMatch(k, /PASSWORD|SECRET|ACCESS_KEY/, k);
            assert.doesNotMatch(JSON.stringify(env), /password/i);
        }
    });

    it("points the standby cluster's WAL-G at the replicated copy of the primary region's archive", () => {
        const env = spiloEnvironment(standby);
        assert.equal(env.STANDBY_WALG_S3_PREFIX, "s3://oc-wal-us-west-2/spilo/ops-center/us-east-1/wal/16");
        assert.equal(env.STANDBY_WALE_S3_PREFIX, env.STANDBY_WALG_S3_PREFIX);
        assert.equal(env.STANDBY_AWS_REGION, "us-west-2");
        assert.equal(env.WALG_S3_PREFIX, "s3://oc-wal-us-west-2/spilo/ops-center/us-west-2/wal/16", "its own archive has its own path");
    });
});

describe("renderPatroniYaml", () => {
    it("embeds exactly Spilo's bootstrap.dcs section", () => {
        const a = yml(renderPatroniYaml(member)).bootstrap.dcs;
        const b = yml(renderSpiloConfiguration(primary)).bootstrap.dcs;
        assert.deepEqual(a, b);
    });

    it("renders restapi, etcd3, postgresql addresses, user names without passwords, and pg_hba", () => {
        const text = renderPatroniYaml(member);
        const cfg = yml(text);
        assert.deepEqual(cfg.restapi, { listen: "0.0.0.0:8008", connect_address: "10.0.1.20:8008" });
        assert.deepEqual(cfg.etcd3.hosts, member.etcdHosts);
        assert.equal(cfg.postgresql.listen, "0.0.0.0:5432");
        assert.equal(cfg.postgresql.connect_address, "10.0.1.20:5432");
        assert.equal(cfg.postgresql.data_dir, "/var/lib/postgresql/data");
        assert.equal(cfg.postgresql.bin_dir, "/usr/lib/postgresql/16/bin");
        assert.deepEqual(cfg.postgresql.authentication, { superuser: { username: "postgres" }, replication: { username: "standby" } });
        assert.doesNotMatch(text, /password\s*:/i);
        assert.ok(cfg.postgresql.pg_hba.includes("host replication standby 10.0.0.0/16 scram-sha-256"));
        assert.ok(cfg.postgresql.pg_hba.includes("host all all 10.0.0.0/16 scram-sha-256"));
        assert.ok(!cfg.postgresql.pg_hba.some((l: string) => / trust$/.test(l)), "no trust authentication");
    });

    it("rejects bad inputs, naming the field", () => {
        assert.throws(() => renderPatroniYaml({ ...member, namespace: "service" }), /namespace = "service"/);
        assert.throws(() => renderPatroniYaml({ ...member, pgConnect: "10.0.1.20" }), /pgConnect = "10.0.1.20"/);
        assert.throws(() => renderPatroniYaml({ ...member, clientCidrs: ["10.0.0.0/33"] }), /clientCidrs\[0\]/);
        assert.throws(() => renderPatroniYaml({ ...member, dataDir: "data" }), /dataDir = "data"/);
    });
});

describe("renderSpiloEntrypoint", () => {
    function runEntrypoint(files: Record<string, string>, args: string[]): { code: number; out: string; err: string; script: string; copies: Record<string, string> } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spilo-ep-"));
        const user = os.userInfo().username;
        try {
            const secrets = path.join(dir, "secrets");
            fs.mkdirSync(secrets);
            for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(secrets, f), v);
            const launch = path.join(dir, "launch.sh");
            fs.writeFileSync(launch, 'echo "args=$*"\necho "su=$PGPASSWORD_SUPERUSER st=$PGPASSWORD_STANDBY"\n');
            const runtimeDir = path.join(dir, "run");
            const script = renderSpiloEntrypoint({ secretsDir: secrets, launchScript: launch, runtimeDir, postgresUser: user });
            const r = spawnSync("sh", ["-c", script, "entrypoint", ...args], { encoding: "utf8", timeout: 10_000 });
            const copies: Record<string, string> = {};
            for (const f of fs.existsSync(runtimeDir) ? fs.readdirSync(runtimeDir) : []) {
                const st = fs.statSync(path.join(runtimeDir, f));
                copies[f] = `${(st.mode & 0o777).toString(8)}:${fs.readFileSync(path.join(runtimeDir, f), "utf8")}`;
            }
            if (fs.existsSync(runtimeDir)) copies["."] = (fs.statSync(runtimeDir).mode & 0o777).toString(8);
            return { code: r.status ?? -1, out: r.stdout, err: r.stderr, script, copies };
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    const all = { pg_superuser_password: "s3cr3t-su\n", pg_replication_password: "s3cr3t-repl", pg_app_password: "s3cr3t-app", pg_monitor_password: "s3cr3t-mon" };

    it("exports Spilo's password variables from the secret files, then execs Spilo with init", () => {
        const r = runEntrypoint(all, []);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^args=init$/m);
        assert.match(r.out, /^su=s3cr3t-su st=s3cr3t-repl$/m);
        // The role passwords are copied for the post-init (which runs as the postgres user), owner-only.
        assert.deepEqual(r.copies, { ".": "700", pg_app_password: "400:s3cr3t-app", pg_monitor_password: "400:s3cr3t-mon" });
        assert.doesNotMatch(r.script, /s3cr3t/);
        assert.match(renderSpiloEntrypoint(), /exec \/bin\/sh \/launch\.sh "\$@"/);
        assert.match(renderSpiloEntrypoint(), /"\/run\/secrets\/pg_replication_password"/);
    });

    it("fails clearly when a secret file is missing", () => {
        const r = runEntrypoint({ pg_superuser_password: "x", pg_app_password: "y", pg_monitor_password: "z" }, []);
        assert.equal(r.code, 1);
        assert.match(r.err, /pg_replication_password \(for PGPASSWORD_STANDBY\) is missing/);
        assert.doesNotMatch(r.out, /args=/);
    });

    it("rejects unsafe paths", () => {
        assert.throws(() => renderSpiloEntrypoint({ secretsDir: "/run/$(x)" }), /secretsDir/);
        assert.throws(() => renderSpiloEntrypoint({ runtimeDir: "run" }), /runtimeDir/);
    });

    it("fails clearly when a role password secret is missing", () => {
        const r = runEntrypoint({ pg_superuser_password: "x", pg_replication_password: "y", pg_app_password: "z" }, []);
        assert.equal(r.code, 1);
        assert.match(r.err, /pg_monitor_password is missing or empty/);
        assert.doesNotMatch(r.out, /args=/);
    });
});

describe("spiloMemberName", () => {
    it("carries the region, so that no member name (application_name) exists in both regions", () => {
        assert.equal(spiloMemberName("us-east-1", 1), "us-east-1-pg-1");
        assert.notEqual(spiloMemberName("us-east-1", 2), spiloMemberName("us-west-2", 2));
        assert.throws(() => spiloMemberName("east", 1), /region = "east"/);
        assert.throws(() => spiloMemberName("us-east-1", 0), /index = 0/);
    });
});
