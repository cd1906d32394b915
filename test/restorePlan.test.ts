/**
 * Point-in-time restore in the registered inputs (mock engine, us-east-1 with `restore` set): the Spilo members
 * carry Spilo's CLONE_* settings and form a new cluster on new volumes, the data hosts may read the source bucket
 * and decrypt with its key, and Redis's first node is seeded by the restore step before it starts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { redisRestoreMarker } from "../renderers/redisRestore";
import { ofType, planStack, unwrap } from "./harness";

const SOURCE = {
    fromBucket: "ops-center-ha-us-east-1-wal-123456789012",
    targetTime: "2026-11-29T09:01:00Z",
    kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/0b5c1e2a-1111-4222-8333-944455556666",
    redisRdbKey: "redis/us-east-1/dump-20261129T090000Z.rdb",
};
const SERVICE = "docker:index/service:Service";
const plan = () => planStack("us-east-1", { restore: JSON.stringify(SOURCE) });
const plain = () => planStack("us-east-1");
const service = (p: ReturnType<typeof plan>, name: string) => {
    const s = ofType(p, SERVICE).find((r) => unwrap(r.inputs.name) === name);
    assert.ok(s, `no service ${name}`);
    return unwrap(s.inputs) as any;
};

describe("plan with restore set (us-east-1)", () => {
    it("every Spilo member: the new scope, Spilo's CLONE_* settings, the clone bootstrap section, a new volume", () => {
        for (const m of ["opscenter-pg-1", "opscenter-pg-2"]) {
            const spec = service(plan(), m).taskSpec.containerSpec;
            assert.equal(spec.env.SCOPE, "ops-center-r20261129090100");
            assert.equal(spec.env.CLONE_METHOD, "CLONE_WITH_WALE");
            assert.equal(spec.env.CLONE_SCOPE, "ops-center");
            assert.equal(spec.env.CLONE_TARGET_TIME, "2026-11-29T09:01:00+00:00");
            assert.equal(spec.env.CLONE_WALG_S3_PREFIX, `s3://${SOURCE.fromBucket}/spilo/ops-center/us-east-1/wal/16`);
            assert.equal(spec.env.CLONE_AWS_REGION, "us-east-1");
            assert.match(spec.env.SPILO_CONFIGURATION, /method: clone_with_wale/);
            assert.match(spec.env.SPILO_CONFIGURATION, /recovery_target_time: "2026-11-29T09:01:00\+00:00"/);
            assert.deepEqual(spec.mounts.filter((x: any) => x.target === "/home/postgres/pgdata").map((x: any) => x.source), [`${m}-ops-center-r20261129090100-pgdata`]);
        }
    });
    it("the stack output postgresScope names the cluster (a later restore's fromScope)", () => {
        assert.equal(plan().outputs.postgresScope, "ops-center-r20261129090100");
        assert.equal(plain().outputs.postgresScope, "ops-center");
    });
    it("without restore: the old scope and volumes, no CLONE_*", () => {
        const spec = service(plain(), "opscenter-pg-1").taskSpec.containerSpec;
        assert.equal(spec.env.SCOPE, "ops-center");
        assert.equal(Object.keys(spec.env).filter((k) => k.startsWith("CLONE_")).length, 0);
        assert.deepEqual(spec.mounts.filter((x: any) => x.target === "/home/postgres/pgdata").map((x: any) => x.source), ["opscenter-pg-1-pgdata"]);
        assert.equal(ofType(plain(), SERVICE).some((r) => unwrap(r.inputs.name) === "opscenter-redis-restore"), false);
    });
    it("the data hosts' role policy: read on the source bucket's backups and kms:Decrypt on its key; the other roles get nothing", () => {
        const policies = ofType(plan(), "aws:iam/rolePolicy:RolePolicy");
        const doc = (r: (typeof policies)[number]) => JSON.parse(String(unwrap(r.inputs.policy))).Statement as any[];
        const data = policies.find((r) => /-data$/.test(r.name))!;
        const sids = doc(data).filter((s) => String(s.Sid).startsWith("RestoreSource"));
        assert.deepEqual(sids.map((s) => [s.Sid, s.Action, s.Resource]), [
            ["RestoreSourceBucket", ["s3:ListBucket", "s3:GetBucketLocation"], `arn:aws:s3:::${SOURCE.fromBucket}`],
            ["RestoreSourceObjects", "s3:GetObject", [`arn:aws:s3:::${SOURCE.fromBucket}/spilo/ops-center/us-east-1/wal/16/*`, `arn:aws:s3:::${SOURCE.fromBucket}/${SOURCE.redisRdbKey}`]],
            ["RestoreSourceKey", "kms:Decrypt", SOURCE.kmsKeyArn],
        ]);
        for (const r of policies.filter((p) => p !== data)) assert.ok(!doc(r).some((s) => String(s.Sid).startsWith("RestoreSource")), r.name);
    });
    it("Redis: the restore step on redis-1's host with redis-1's volume, and redis-1 waits for it", () => {
        const restore = service(plan(), "opscenter-redis-restore");
        const r1 = service(plan(), "opscenter-redis-1");
        assert.deepEqual(restore.taskSpec.containerSpec.mounts.map((m: any) => [m.source, m.target]), [["opscenter-redis-1-data", "/data"]]);
        assert.deepEqual(restore.taskSpec.placement.constraints, r1.taskSpec.placement.constraints);
        const configs = (p: ReturnType<typeof plan>, n: string) => ofType(p, "docker:index/serviceConfig:ServiceConfig").filter((c) => String(unwrap(c.inputs.name)).includes(n));
        // redis-1's own start script (it also asks the sentinels, issue 12) waits for the restore step's marker;
        // redis-2's does not.
        const startScript = (svc: any) => {
            const m = svc.taskSpec.containerSpec.configs.find((c: any) => c.fileName === "/usr/local/bin/ops-redis-start.sh");
            const cfg = ofType(plan(), "docker:index/serviceConfig:ServiceConfig").find((c) => c.inputs.name === m.configName);
            return Buffer.from(String(cfg!.inputs.data), "base64").toString("utf8");
        };
        assert.ok(startScript(r1).includes(redisRestoreMarker()), "redis-1 waits for the restore marker");
        assert.ok(configs(plan(), "redis-restore").length >= 1);
        const r2 = service(plan(), "opscenter-redis-2");
        assert.ok(!startScript(r2).includes(redisRestoreMarker()), "redis-2 does not wait");
    });
});
