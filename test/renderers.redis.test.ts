import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import {
    REDIS_DEFAULTS, renderRdbBackupScript, renderRedisConf, renderRedisStart, renderSentinelConf, renderSentinelStart,
    validateSentinelTopology,
} from "../renderers/redis";

const lines = (text: string) => text.split("\n");
const has = (text: string, line: string) => assert.ok(lines(text).includes(line), `missing line: ${line}\n---\n${text}`);
const hasNot = (text: string, re: RegExp) => assert.doesNotMatch(text, re);

const master = () => renderRedisConf({ name: "redis-1", region: "primary", announceHost: "redis-1" });
const replica = () => renderRedisConf({ name: "redis-2", region: "primary", announceHost: "redis-2", replicaOf: { host: "redis-1", port: 6379 } });
const standby = () => renderRedisConf({ name: "redis-standby", region: "standby", announceHost: "redis-standby.internal", replicaOf: { host: "redis-1.internal", port: 6379 } });
const sentinel = () => renderSentinelConf({ name: "redis-sentinel-1", master: { host: "redis-1", port: 6379 }, announceHost: "redis-sentinel-1" });

describe("REDIS_DEFAULTS", () => {
    it("holds the production timings and paths", () => {
        assert.equal(REDIS_DEFAULTS.downAfterMs, 5000);
        assert.equal(REDIS_DEFAULTS.quorum, 2);
        assert.equal(REDIS_DEFAULTS.sentinels, 3);
        assert.equal(REDIS_DEFAULTS.parallelSyncs, 1);
        assert.ok(REDIS_DEFAULTS.failoverTimeoutMs > REDIS_DEFAULTS.downAfterMs);
        assert.equal(REDIS_DEFAULTS.passwordFile, "/run/secrets/redis_password");
        assert.equal(REDIS_DEFAULTS.sentinelConfPath, "/data/sentinel.conf");
        assert.equal(REDIS_DEFAULTS.backupIntervalS, 3600);
    });
});

describe("renderRedisConf", () => {
    it("renders persistence, port, announce and min-replicas for the primary-region master", () => {
        const t = master();
        for (const l of ["appendonly yes", "appendfsync everysec", "save 900 1", "save 300 10", "dir /data", "port 6379",
            "protected-mode no", "bind * -::*", "replica-announce-ip redis-1", "replica-announce-port 6379",
            "replica-priority 100", "min-replicas-to-write 1", "min-replicas-max-lag 10"]) has(t, l);
        hasNot(t, /^replicaof /m);
    });
    it("never renders a password", () => {
        for (const t of [master(), replica(), standby(), sentinel()]) hasNot(t, /^(requirepass|masterauth|sentinel auth-pass)/m);
    });
    it("makes replicas follow the initial master", () => {
        has(replica(), "replicaof redis-1 6379");
        has(replica(), "min-replicas-to-write 1");
    });
    it("gives the standby region's replica priority 0 and no min-replicas", () => {
        const t = standby();
        has(t, "replica-priority 0");
        has(t, "replicaof redis-1.internal 6379");
        has(t, "replica-announce-ip redis-standby.internal");
        hasNot(t, /^min-replicas/m);
    });
    it("takes remapped ports, bind, announce port and data dir", () => {
        const t = renderRedisConf({ name: "x", region: "primary", announceHost: "127.0.0.1", port: 26101, announcePort: 30000, bind: "127.0.0.1", dataDir: "/tmp/x" });
        for (const l of ["port 26101", "replica-announce-port 30000", "bind 127.0.0.1", "dir /tmp/x"]) has(t, l);
    });
    it("rejects bad inputs naming the field", () => {
        const base = { name: "x", region: "primary" as const, announceHost: "redis-1" };
        assert.throws(() => renderRedisConf({ ...base, port: 0 }), /port is 0/);
        assert.throws(() => renderRedisConf({ ...base, announceHost: "a b" }), /announceHost is "a b"/);
        assert.throws(() => renderRedisConf({ ...base, dataDir: "data" }), /dataDir is "data"/);
        assert.throws(() => renderRedisConf({ ...base, replicaPriority: 0 }), /replicaPriority is 0/);
        assert.throws(() => renderRedisConf({ ...base, region: "standby" }), /replicaOf is undefined/);
        assert.throws(() => renderRedisConf({ ...base, region: "standby", replicaOf: { host: "m", port: 6379 }, replicaPriority: 10 }), /replicaPriority is 10.*never be promoted/);
        assert.throws(() => renderRedisConf({ ...base, replicaOf: { host: "m", port: 70000 } }), /replicaOf.port is 70000/);
        assert.throws(() => renderRedisConf({ ...base, region: "east" as "primary" }), /region is "east"/);
        assert.throws(() => renderRedisConf({ ...base, maxmemoryMb: 10 }), /maxmemoryMb is 10/);
    });
    it("renders maxmemory with noeviction only when asked (the Redis component sets it below the container limit)", () => {
        const t = renderRedisConf({ name: "x", region: "primary", announceHost: "redis-1", maxmemoryMb: 1536 });
        has(t, "maxmemory 1536mb");
        has(t, "maxmemory-policy noeviction");
        hasNot(master(), /^maxmemory/m);
    });
});

describe("renderSentinelConf and validateSentinelTopology", () => {
    it("renders monitor with quorum 2, the timings and hostname support, before the monitor line", () => {
        const t = sentinel();
        for (const l of ["port 26379", "dir /data", "protected-mode no", "sentinel resolve-hostnames yes", "sentinel announce-hostnames yes",
            "sentinel announce-ip redis-sentinel-1", "sentinel announce-port 26379", "sentinel monitor opscenter redis-1 6379 2",
            "sentinel down-after-milliseconds opscenter 5000", "sentinel parallel-syncs opscenter 1",
            "sentinel failover-timeout opscenter 60000"]) has(t, l);
        const at = (p: string) => lines(t).findIndex((l) => l.startsWith(p));
        assert.ok(at("sentinel resolve-hostnames") < at("sentinel monitor"), "resolve-hostnames must precede a monitor line with a hostname");
        assert.ok(at("sentinel monitor") < at("sentinel down-after-milliseconds"));
        assert.match(t, /^# failover-timeout 60000 ms\. .*retry a failover/m);
    });
    it("omits announce-ip when no announce host is given", () => {
        hasNot(renderSentinelConf({ name: "s", master: { host: "redis-1", port: 6379 } }), /announce-ip|announce-port/);
    });
    it("accepts odd sentinel counts with a majority quorum", () => {
        for (const [sentinels, quorum] of [[3, 2], [3, 3], [5, 3], [5, 5], [7, 4]]) validateSentinelTopology({ sentinels, quorum });
    });
    it("rejects even, too few and non-majority topologies", () => {
        assert.throws(() => validateSentinelTopology({ sentinels: 2, quorum: 2 }), /sentinels is 2; allowed: an odd integer of at least 3/);
        assert.throws(() => validateSentinelTopology({ sentinels: 4, quorum: 3 }), /sentinels is 4/);
        assert.throws(() => validateSentinelTopology({ sentinels: 1, quorum: 1 }), /sentinels is 1/);
        assert.throws(() => validateSentinelTopology({ sentinels: 3, quorum: 1 }), /quorum is 1; allowed: a majority of 3 sentinels: an integer from 2 to 3/);
        assert.throws(() => validateSentinelTopology({ sentinels: 3, quorum: 4 }), /quorum is 4/);
        assert.throws(() => validateSentinelTopology({ sentinels: 5, quorum: 2.5 }), /quorum is 2.5/);
        assert.throws(() => renderSentinelConf({ name: "s", master: { host: "m", port: 1 }, sentinels: 5 }), /quorum is 2; allowed: a majority of 5/);
    });
    it("rejects bad timings and names", () => {
        const base = { name: "s", master: { host: "m", port: 6379 } };
        assert.throws(() => renderSentinelConf({ ...base, failoverTimeoutMs: 5000 }), /failoverTimeoutMs is 5000/);
        assert.throws(() => renderSentinelConf({ ...base, downAfterMs: 10 }), /downAfterMs is 10/);
        assert.throws(() => renderSentinelConf({ ...base, parallelSyncs: 0 }), /parallelSyncs is 0/);
        assert.throws(() => renderSentinelConf({ ...base, masterName: "my master" }), /masterName is "my master"/);
    });
});

/** Runs a rendered start script with a fake daemon on PATH that prints the config it was given. */
function runStart(script: string, dir: string, daemon: string): { code: number; out: string; err: string } {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, daemon), '#!/bin/sh\ncat "$1"\n', { mode: 0o755 });
    const file = path.join(dir, "start.sh");
    fs.writeFileSync(file, script);
    const r = spawnSync("sh", [file], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 10_000 });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/**
 * Runs a start script as a container would: a non-root user (the image's; `nobody` here when the test runs as root,
 * because root ignores file modes), the rendered file a read-only Swarm config (0444, root's), the secret 0444,
 * the data directory the user's. Root hid the defect where `cp` copied the config's read-only mode to the copy
 * and the next `>>` failed with "Permission denied" (the Redis services never started on the Swarm lab).
 */
function runStartAsUser(render: (i: { configSource: string; configPath: string; passwordFile: string }) => string, conf: string, daemon: string): { code: number; out: string; err: string } {
    const d = tmp();
    fs.chmodSync(d, 0o755);
    const data = path.join(d, "data");
    fs.mkdirSync(data, { mode: 0o777 });
    fs.chmodSync(data, 0o777);
    fs.writeFileSync(path.join(d, "src.conf"), conf, { mode: 0o444 });
    fs.writeFileSync(path.join(d, "pw"), "A1b2C3d4E5f6G7h8I9j0\n", { mode: 0o444 });
    const bin = path.join(d, "bin");
    fs.mkdirSync(bin, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, daemon), '#!/bin/sh\ncat "$1"\n', { mode: 0o755 });
    const file = path.join(d, "start.sh");
    fs.writeFileSync(file, render({ configSource: path.join(d, "src.conf"), configPath: path.join(data, "run.conf"), passwordFile: path.join(d, "pw") }), { mode: 0o444 });
    const argv = process.getuid?.() === 0 ? ["runuser", "-u", "nobody", "--", "sh", file] : ["sh", file];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` }, timeout: 10_000 });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tmp(): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "redis-renderer-"));
    dirs.push(d);
    return d;
}

describe("renderRedisStart", () => {
    it("uses the production paths by default and passes sh -n", () => {
        const s = renderRedisStart();
        has(s, "src='/usr/local/etc/redis/redis.conf'");
        has(s, "conf='/data/redis.conf'");
        has(s, "secret='/run/secrets/redis_password'");
        has(s, 'exec redis-server "$conf"');
        assert.equal(spawnSync("sh", ["-n"], { input: s }).status, 0);
    });
    it("appends requirepass/masterauth from the secret file, and keeps Sentinel's role on restart", () => {
        const d = tmp();
        const pw = "A1b2C3d4E5f6G7h8I9j0";
        fs.writeFileSync(path.join(d, "pw"), pw + "\n");
        fs.writeFileSync(path.join(d, "redis.conf"), replica());
        const script = renderRedisStart({ configSource: path.join(d, "redis.conf"), configPath: path.join(d, "run.conf"), passwordFile: path.join(d, "pw") });
        assert.ok(!script.includes(pw));
        let r = runStart(script, d, "redis-server");
        assert.equal(r.code, 0, r.err);
        has(r.out, `requirepass ${pw}`);
        has(r.out, `masterauth ${pw}`);
        has(r.out, "replicaof redis-1 6379");
        // Sentinel promoted this node (REPLICAOF NO ONE + CONFIG REWRITE removed the line): it restarts as master.
        fs.writeFileSync(path.join(d, "run.conf"), r.out.replace(/^replicaof .*\n/m, ""));
        r = runStart(script, d, "redis-server");
        hasNot(r.out, /^replicaof /m);
        assert.equal(r.out.match(/^requirepass /gm)?.length, 1);
        // Sentinel pointed it at another master: kept; settings still come from the rendered file.
        fs.writeFileSync(path.join(d, "run.conf"), r.out + "replicaof redis-3 6379\nappendfsync always\n");
        r = runStart(script, d, "redis-server");
        has(r.out, "replicaof redis-3 6379");
        has(r.out, "appendfsync everysec");
        hasNot(r.out, /appendfsync always|replicaof redis-1/);
    });
    it("starts as a non-root user from a read-only rendered file (the Swarm config's mode 0444), first start and restart", () => {
        for (let i = 0; i < 2; i++) {
            const r = runStartAsUser(renderRedisStart, replica(), "redis-server");
            assert.equal(r.code, 0, r.err);
            has(r.out, "requirepass A1b2C3d4E5f6G7h8I9j0");
        }
    });
    it("refuses a missing, short or unsafe password", () => {
        const d = tmp();
        fs.writeFileSync(path.join(d, "redis.conf"), master());
        const script = renderRedisStart({ configSource: path.join(d, "redis.conf"), configPath: path.join(d, "run.conf"), passwordFile: path.join(d, "pw") });
        assert.match(runStart(script, d, "redis-server").err, /cannot read the password file/);
        fs.writeFileSync(path.join(d, "pw"), "short\n");
        assert.match(runStart(script, d, "redis-server").err, /shorter than 16/);
        fs.writeFileSync(path.join(d, "pw"), "has space in it 1234567\n");
        assert.match(runStart(script, d, "redis-server").err, /must hold one line/);
        assert.ok(!fs.existsSync(path.join(d, "run.conf")));
    });
    it("rejects unsafe paths", () => {
        assert.throws(() => renderRedisStart({ passwordFile: "/run/secrets/x;rm -rf /" }), /passwordFile is/);
        assert.throws(() => renderRedisStart({ configPath: "/usr/local/etc/redis/redis.conf" }), /configPath .*other than configSource/);
    });
});

describe("renderSentinelStart", () => {
    it("copies the rendered file at first start and appends auth-pass from the secret", () => {
        const d = tmp();
        fs.writeFileSync(path.join(d, "pw"), "A1b2C3d4E5f6G7h8I9j0\n");
        fs.writeFileSync(path.join(d, "sentinel.conf"), sentinel());
        const script = renderSentinelStart({ configSource: path.join(d, "sentinel.conf"), configPath: path.join(d, "run.conf"), passwordFile: path.join(d, "pw") });
        has(script, 'exec redis-sentinel "$conf"');
        const r = runStart(script, d, "redis-sentinel");
        assert.equal(r.code, 0, r.err);
        assert.equal(r.out, sentinel() + "sentinel auth-pass opscenter A1b2C3d4E5f6G7h8I9j0\n");
    });
    it("starts as a non-root user from a read-only rendered file (the Swarm config's mode 0444)", () => {
        const r = runStartAsUser(renderSentinelStart, sentinel(), "redis-sentinel");
        assert.equal(r.code, 0, r.err);
        assert.equal(r.out, sentinel() + "sentinel auth-pass opscenter A1b2C3d4E5f6G7h8I9j0\n");
    });
    it("on restart keeps the learned master, id, epochs and peers, and takes the settings from the rendered file", () => {
        const d = tmp();
        fs.writeFileSync(path.join(d, "pw"), "NewPassword0123456789\n");
        fs.writeFileSync(path.join(d, "sentinel.conf"), sentinel());
        const learned = [
            "port 26379", "sentinel monitor opscenter redis-3 6379 2", "sentinel down-after-milliseconds opscenter 30000",
            "sentinel auth-pass opscenter OldPassword0123456789", "user default on nopass ~* &* +@all", "sentinel myid abc123",
            "sentinel config-epoch opscenter 4", "sentinel leader-epoch opscenter 4", "sentinel current-epoch 4",
            "sentinel known-replica opscenter redis-1 6379", "sentinel known-sentinel opscenter redis-sentinel-2 26379 def456",
            "sentinel known-replica other x 1",
        ].join("\n") + "\n";
        fs.writeFileSync(path.join(d, "run.conf"), learned);
        const script = renderSentinelStart({ configSource: path.join(d, "sentinel.conf"), configPath: path.join(d, "run.conf"), passwordFile: path.join(d, "pw") });
        const r = runStart(script, d, "redis-sentinel");
        assert.equal(r.code, 0, r.err);
        for (const l of ["sentinel monitor opscenter redis-3 6379 2", "sentinel down-after-milliseconds opscenter 5000", "sentinel myid abc123",
            "sentinel config-epoch opscenter 4", "sentinel leader-epoch opscenter 4", "sentinel current-epoch 4",
            "sentinel known-replica opscenter redis-1 6379", "sentinel known-sentinel opscenter redis-sentinel-2 26379 def456",
            "sentinel auth-pass opscenter NewPassword0123456789", "sentinel resolve-hostnames yes"]) has(r.out, l);
        hasNot(r.out, /OldPassword|30000|redis-1 6379 2|known-replica other|user default/);
        const o = lines(r.out);
        assert.ok(o.indexOf("sentinel monitor opscenter redis-3 6379 2") < o.indexOf("sentinel config-epoch opscenter 4"));
    });
});

describe("renderRdbBackupScript", () => {
    const input = { region: "us-east-1", bucket: "ops-center-backups-use1", kmsKeyId: "alias/ops-center", source: { host: "redis-2", port: 6379 } };
    it("dumps with redis-cli --rdb (auth via REDISCLI_AUTH from the secret) and copies with SSE-KMS", () => {
        const s = renderRdbBackupScript(input);
        for (const l of ["host='redis-2'", "port=6379", "bucket='ops-center-backups-use1'", "region='us-east-1'", "kms_key='alias/ops-center'",
            "interval=3600", "secret='/run/secrets/redis_password'", '    REDISCLI_AUTH=$(cat "$secret") || exit 1',
            '    redis-cli --no-auth-warning -h "$host" -p "$port" --rdb "$file" >/dev/null || exit 1']) has(s, l);
        assert.match(s, /aws s3 cp --only-show-errors --region "\$region" --sse aws:kms --sse-kms-key-id "\$kms_key" \\\n\s+"\$file" "s3:\/\/\$bucket\/redis\/\$region\/dump-\$ts\.rdb"/);
        hasNot(s, /-a "|--pass/);
        assert.equal(spawnSync("sh", ["-n"], { input: s }).status, 0);
    });
    it("takes the interval and retry as inputs", () => {
        const s = renderRdbBackupScript({ ...input, intervalS: 600, retryS: 60 });
        has(s, "interval=600");
        has(s, "retry=60");
    });
    it("runs one copy with fake redis-cli and aws, and keeps the password off the command lines", () => {
        const d = tmp();
        const bin = path.join(d, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(d, "pw"), "A1b2C3d4E5f6G7h8I9j0\n");
        fs.writeFileSync(path.join(bin, "redis-cli"), `#!/bin/sh\necho "$REDISCLI_AUTH $*" > ${d}/cli.args\nwhile [ "$1" != --rdb ]; do shift; done\necho REDIS0010 > "$2"\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\necho "[$REDISCLI_AUTH] $*" > ${d}/aws.args\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "sleep"), "#!/bin/sh\nkill $PPID\n", { mode: 0o755 });
        const s = renderRdbBackupScript({ ...input, passwordFile: path.join(d, "pw"), workDir: path.join(d, "work") });
        const r = spawnSync("sh", ["-c", s], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 10_000 });
        assert.match(r.stdout, /uploaded s3:\/\/ops-center-backups-use1\/redis\/us-east-1\/dump-\d{8}T\d{6}Z\.rdb/, r.stderr);
        assert.match(fs.readFileSync(path.join(d, "cli.args"), "utf8"), /^A1b2C3d4E5f6G7h8I9j0 --no-auth-warning -h redis-2 -p 6379 --rdb /);
        const aws = fs.readFileSync(path.join(d, "aws.args"), "utf8");
        assert.match(aws, /^\[\] s3 cp --only-show-errors --region us-east-1 --sse aws:kms --sse-kms-key-id alias\/ops-center .*dump-\d{8}T\d{6}Z\.rdb s3:\/\/ops-center-backups-use1\/redis\/us-east-1\/dump-/);
        assert.ok(fs.existsSync(path.join(d, "work", "last-success")));
        assert.deepEqual(fs.readdirSync(path.join(d, "work")), ["last-success"], "the dump is removed after the copy");
    });
    it("with rdbFile, copies the replica's own snapshot from the shared volume and needs no redis-cli", () => {
        const d = tmp();
        const bin = path.join(d, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(d, "dump.rdb"), "REDIS0010-snapshot");
        fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\ncp "$5" ${d}/uploaded.rdb 2>/dev/null; for a; do case "$a" in *.rdb) cp "$a" ${d}/uploaded.rdb 2>/dev/null;; esac; done; echo "$*" > ${d}/aws.args\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "sleep"), "#!/bin/sh\nkill $PPID\n", { mode: 0o755 });
        const s = renderRdbBackupScript({ ...input, rdbFile: path.join(d, "dump.rdb"), workDir: path.join(d, "work") });
        assert.doesNotMatch(s, /redis-cli --no-auth-warning/);
        const r = spawnSync("sh", ["-c", s], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 10_000 });
        assert.match(r.stdout, /uploaded s3:\/\/ops-center-backups-use1\/redis\/us-east-1\/dump-/, r.stderr);
        assert.equal(fs.readFileSync(path.join(d, "uploaded.rdb"), "utf8"), "REDIS0010-snapshot");
    });
    it("with rdbFile, a Redis that has saved no snapshot yet (fresh, no writes) is healthy with nothing to copy; a volume with no Redis is a failure", () => {
        // Found on the Swarm lab: a fresh deploy's Redis writes dump.rdb only after its first `save` rule fires
        // (900 s after the first write; never with no write), so the sidecar failed, its health check never passed,
        // and Swarm killed it after the start period, over and over.
        const d = tmp();
        const bin = path.join(d, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\necho "$*" >> ${d}/aws.args\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "sleep"), "#!/bin/sh\nkill $PPID\n", { mode: 0o755 });
        const vol = path.join(d, "redis-data");
        fs.mkdirSync(path.join(vol, "appendonlydir"), { recursive: true }); // Redis runs there (appendonly yes)
        const s = renderRdbBackupScript({ ...input, rdbFile: path.join(vol, "dump.rdb"), workDir: path.join(d, "work") });
        const r = spawnSync("sh", ["-c", s], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 10_000 });
        assert.match(r.stdout + r.stderr, /no snapshot yet/);
        assert.ok(fs.existsSync(path.join(d, "work", "last-success")), `no last-success: ${r.stdout}${r.stderr}`);
        assert.ok(!fs.existsSync(path.join(d, "aws.args")), "nothing may be uploaded");
        // The volume is not a Redis data dir (a wrong mount): no success.
        const e = tmp();
        fs.mkdirSync(path.join(e, "work"));
        const s2 = renderRdbBackupScript({ ...input, rdbFile: path.join(e, "empty", "dump.rdb"), workDir: path.join(e, "work") });
        const r2 = spawnSync("sh", ["-c", s2], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 10_000 });
        assert.match(r2.stderr, /copy failed/);
        assert.ok(!fs.existsSync(path.join(e, "work", "last-success")));
    });
    it("rejects bad bucket, region, key and interval", () => {
        assert.throws(() => renderRdbBackupScript({ ...input, bucket: "Bad_Bucket" }), /bucket is "Bad_Bucket"/);
        assert.throws(() => renderRdbBackupScript({ ...input, region: "useast" }), /region is "useast"/);
        assert.throws(() => renderRdbBackupScript({ ...input, kmsKeyId: "key'; rm" }), /kmsKeyId is/);
        assert.throws(() => renderRdbBackupScript({ ...input, intervalS: 5 }), /intervalS is 5/);
        assert.throws(() => renderRdbBackupScript({ ...input, intervalS: 600, retryS: 900 }), /retryS is 900/);
    });
});

describe("renderRedisStart and renderSentinelStart: an empty volume asks the sentinels", () => {
    const sentinels = [{ host: "10.0.1.10", port: 26379 }, { host: "10.0.2.10", port: 26379 }];
    it("needs the node's own announced address with sentinels (to refuse starting as an empty master)", () => {
        assert.throws(() => renderRedisStart({ sentinels }), /self.*this node's announced address/);
        assert.throws(() => renderRedisStart({ sentinels: [{ host: "bad host", port: 26379 }], self: { host: "10.0.0.1", port: 6379 } }), /sentinels\[0\]\.host/);
    });
    it("renders the sentinels in order and this node's address; parses under sh", () => {
        const s = renderRedisStart({ sentinels, self: { host: "10.0.0.1", port: 6379 } });
        assert.match(s, /^sentinels='10\.0\.1\.10:26379 10\.0\.2\.10:26379'$/m);
        assert.match(s, /^self='10\.0\.0\.1 6379'$/m);
        assert.match(s, /not starting as an empty master/);
        for (const text of [s, renderSentinelStart({ sentinels })]) {
            const r = spawnSync("sh", ["-n"], { input: text, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
        }
    });
    it("without sentinels (the standby region) the empty start keeps the rendered role", () => {
        assert.match(renderRedisStart(), /^sentinels=''$/m);
    });
});
