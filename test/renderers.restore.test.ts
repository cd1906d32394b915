/**
 * Point-in-time restore renderers: Spilo's clone-from-backup environment and bootstrap section
 * (renderers/spiloRestore.ts, checked against zalando/spilo configure_spilo.py's names), the restore IAM
 * (lib/restoreAccess.ts) and the Redis restore step (renderers/redisRestore.ts).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { renderSpiloConfiguration, spiloEnvironment, SpiloMemberInput, walS3Prefix } from "../renderers/patroni";
import { postgresTargetTime, spiloCloneBootstrap, spiloCloneEnvDir, spiloCloneEnvironment, SpiloRestoreSource } from "../renderers/spiloRestore";
import { restoreReadStatements } from "../lib/restoreAccess";
import { renderRedisRestoreScript, redisRestoreMarker } from "../renderers/redisRestore";
import { renderRedisStart } from "../renderers/redis";

const source = (): SpiloRestoreSource => ({ fromBucket: "ops-center-ha-us-east-1-wal-123456789012", bucketRegion: "us-east-1", fromRegion: "us-east-1", fromScope: "ops-center", targetTime: "2026-11-29T14:01:00Z" });
const member = (over: Partial<SpiloMemberInput> = {}): SpiloMemberInput => ({
    role: "primary",
    scope: "ops-center-r20261129140100",
    memberName: "us-east-1-pg-1",
    connectHost: "opscenter-pg-1",
    etcdHosts: ["opscenter-etcd-1:2379"],
    backup: { bucket: "ops-center-ha-us-east-1-wal-123456789012", region: "us-east-1", kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/x" },
    restore: source(),
    ...over,
});

describe("Spilo clone-from-backup environment (configure_spilo.py CLONE_WITH_WALE)", () => {
    it("the CLONE_* names Spilo reads, with the source cluster's full WAL-G path and the bucket's region", () => {
        assert.deepEqual(spiloCloneEnvironment(source(), 16), {
            CLONE_METHOD: "CLONE_WITH_WALE",
            CLONE_SCOPE: "ops-center",
            CLONE_TARGET_TIME: "2026-11-29T14:01:00+00:00",
            CLONE_WALG_S3_PREFIX: "s3://ops-center-ha-us-east-1-wal-123456789012/spilo/ops-center/us-east-1/wal/16",
            CLONE_WALE_S3_PREFIX: "s3://ops-center-ha-us-east-1-wal-123456789012/spilo/ops-center/us-east-1/wal/16",
            CLONE_AWS_REGION: "us-east-1",
            CLONE_USE_WALG_RESTORE: "true",
        });
    });
    it("a replicated copy: path of the writer region, AWS_REGION of the bucket", () => {
        const env = spiloCloneEnvironment({ ...source(), fromBucket: "ops-center-ha-us-west-2-wal-123456789012", bucketRegion: "us-west-2" }, 16);
        assert.equal(env.CLONE_WALG_S3_PREFIX, "s3://ops-center-ha-us-west-2-wal-123456789012/spilo/ops-center/us-east-1/wal/16");
        assert.equal(env.CLONE_AWS_REGION, "us-west-2");
    });
    it("recovery_target_time gets a numeric offset: Postgres refuses a time zone abbreviation such as Z (found by the pitr_restore bench)", () => {
        assert.equal(postgresTargetTime("2026-11-29T14:01:00Z"), "2026-11-29T14:01:00+00:00");
        assert.equal(postgresTargetTime("2026-11-29T14:01:00.250z"), "2026-11-29T14:01:00.250+00:00");
        assert.equal(postgresTargetTime("2026-11-29T15:01:00+01:00"), "2026-11-29T15:01:00+01:00");
        const cfg = parse(renderSpiloConfiguration(member()));
        assert.equal(cfg.bootstrap.clone_with_wale.recovery_conf.recovery_target_time, "2026-11-29T14:01:00+00:00");
        assert.equal(spiloEnvironment(member()).CLONE_TARGET_TIME, "2026-11-29T14:01:00+00:00");
    });
    it("a target without an offset is refused (clone_with_wale.py raises on it)", () => {
        assert.throws(() => spiloCloneEnvironment({ ...source(), targetTime: "2026-11-29 14:01:00" }, 16), /targetTime .* offset/);
    });
    it("the member's environment carries them with its own (new) scope and its own WAL path", () => {
        const env = spiloEnvironment(member());
        assert.equal(env.SCOPE, "ops-center-r20261129140100");
        assert.equal(env.CLONE_SCOPE, "ops-center");
        assert.equal(env.WALG_S3_PREFIX, walS3Prefix("ops-center-ha-us-east-1-wal-123456789012", "ops-center-r20261129140100", "us-east-1", 16));
        assert.equal(spiloEnvironment(member({ restore: undefined, scope: "ops-center" })).CLONE_METHOD, undefined);
    });
    it("restore on a standby, or into the source's own scope, is refused", () => {
        assert.throws(() => spiloEnvironment(member({ scope: "ops-center" })), /restore.fromScope .* must differ from scope/);
        assert.throws(
            () => spiloEnvironment(member({ role: "standby", standby: { primaryHosts: ["10.10.1.5"], primaryPort: 5000, replicatedBucket: "b-us-west-2", primaryRegion: "us-west-2" } })),
            /restore .* must be omitted when role is "standby"/,
        );
    });
});

describe("the clone bootstrap section (the same as Spilo's TEMPLATE renders)", () => {
    it("method clone_with_wale, Spilo's command and restore_command through the clone envdir, promote at the target", () => {
        const cfg = parse(renderSpiloConfiguration(member()));
        const dir = "/run/etc/wal-e.d/env-clone-ops-center";
        assert.equal(spiloCloneEnvDir("ops-center"), dir);
        assert.equal(cfg.bootstrap.method, "clone_with_wale");
        assert.deepEqual(cfg.bootstrap.clone_with_wale, {
            command: `envdir "${dir}" python3 /scripts/clone_with_wale.py --recovery-target-time="2026-11-29T14:01:00+00:00"`,
            recovery_conf: {
                restore_command: `envdir "${dir}" timeout "0" /scripts/restore_command.sh "%f" "%p"`,
                recovery_target_timeline: "latest",
                recovery_target_action: "promote",
                recovery_target_time: "2026-11-29T14:01:00+00:00",
            },
        });
        // The DCS section and post_init stay: the restored cluster is a normal primary cluster with our roles.
        assert.equal(cfg.bootstrap.post_init, "/bin/sh /etc/ops-center/post-init.sh");
        assert.equal(cfg.bootstrap.dcs.synchronous_mode, true);
        assert.equal(cfg.bootstrap.dcs.standby_cluster, undefined);
    });
    it("clone_with_wale.py finds its envdir in the restore_command (get_clone_envdir: envdir <dir> and more than 4 words)", () => {
        const words = (spiloCloneBootstrap({ fromScope: "ops-center", targetTime: "2026-11-29T14:01:00Z" }).clone_with_wale as { recovery_conf: { restore_command: string } }).recovery_conf.restore_command.split(" ");
        assert.equal(words[0], "envdir");
        assert.ok(words.length > 4);
    });
    it("the bench's stand-ins replace exactly the two commands", () => {
        const spilo = spiloCloneBootstrap({ fromScope: "s", targetTime: "2026-11-29T14:01:00Z" }) as Record<string, any>;
        const bench = spiloCloneBootstrap({ fromScope: "s", targetTime: "2026-11-29T14:01:00Z", command: "sh /x/clone.sh", restoreCommand: "cp /a/%f %p" }) as Record<string, any>;
        assert.deepEqual({ ...bench.clone_with_wale.recovery_conf, restore_command: undefined }, { ...spilo.clone_with_wale.recovery_conf, restore_command: undefined });
        assert.equal(bench.clone_with_wale.command, "sh /x/clone.sh");
    });
});

describe("restore IAM: read on the source bucket's backups and decrypt with its key, nothing more", () => {
    const input = { ...source(), kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/0b5c1e2a-1111-4222-8333-944455556666", pgVersion: 16, redisRdbKey: "redis/us-east-1/dump-1.rdb" };
    it("three statements: list the bucket, get the WAL-G path and the one RDB copy, kms:Decrypt through S3 of the bucket's region", () => {
        assert.deepEqual(restoreReadStatements(input, "aws"), [
            { Sid: "RestoreSourceBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: "arn:aws:s3:::ops-center-ha-us-east-1-wal-123456789012" },
            { Sid: "RestoreSourceObjects", Effect: "Allow", Action: "s3:GetObject",
              Resource: ["arn:aws:s3:::ops-center-ha-us-east-1-wal-123456789012/spilo/ops-center/us-east-1/wal/16/*", "arn:aws:s3:::ops-center-ha-us-east-1-wal-123456789012/redis/us-east-1/dump-1.rdb"] },
            { Sid: "RestoreSourceKey", Effect: "Allow", Action: "kms:Decrypt", Resource: input.kmsKeyArn, Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } } },
        ]);
    });
    it("no write, no delete, no GenerateDataKey", () => {
        const actions = JSON.stringify(restoreReadStatements(input, "aws"));
        for (const a of ["Put", "Delete", "GenerateDataKey", "\"s3:*\"", "\"kms:*\""]) assert.ok(!actions.includes(a), a);
    });
});

describe("Redis restore step", () => {
    const script = renderRedisRestoreScript({ bucket: "ops-center-ha-us-east-1-wal-123456789012", region: "us-east-1", key: "redis/us-east-1/dump-20261129T130000Z.rdb", owner: "999:1000" });
    it("fetches the RDB copy as the AOF base of an empty volume, with Redis 7's manifest line, then writes the marker", () => {
        assert.match(script, /aws s3 cp --only-show-errors --region "\$region" "s3:\/\/\$bucket\/\$key" "\$tmp\/appendonlydir\/appendonly.aof.1.base.rdb"/);
        assert.match(script, /printf 'file appendonly.aof.1.base.rdb seq 1 type b\\n'/);
        assert.match(script, /if \[ -e "\$data\/appendonlydir" \] \|\| \[ -e "\$data\/dump.rdb" \]; then/);
        assert.match(script, /date -u \+%s > "\$marker"/);
    });
    it("refuses a key that is not an .rdb", () => {
        assert.throws(() => renderRedisRestoreScript({ bucket: "b-1-x", region: "us-east-1", key: "redis/x.aof", owner: "999:1000" }), /key/);
    });
    it("the first node's start script waits for the marker, bounded; the others do not wait", () => {
        const start = renderRedisStart({ waitForRestore: redisRestoreMarker() });
        assert.match(start, /while \[ ! -e '\/data\/\.ops-restore-done' \]; do/);
        assert.match(start, /has not finished after 900 s/);
        assert.ok(!renderRedisStart().includes("ops-restore-done"));
    });
});
