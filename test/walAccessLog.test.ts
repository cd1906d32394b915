/**
 * The WAL bucket's server access log, in both regions: every request to the bucket that holds the database's
 * base backups and WAL is recorded in a log bucket of its own (same region and account, as S3 requires), with
 * its own retention and its own secure settings (S3 User Guide, "Enabling Amazon S3 server access logging").
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { byName, ofType, planStack, STACKS, unwrap } from "./harness";
import type { RecordedResource } from "../offline/engine";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const inp = (r: RecordedResource) => unwrap(r.inputs) as Json;
const on = (plan: ReturnType<typeof planStack>, type: string, bucketId: string) => ofType(plan, type).filter((r) => inp(r).bucket === bucketId);

for (const stack of STACKS) {
    describe(`WAL bucket access log (${stack})`, () => {
        const plan = planStack(stack);
        const wal = () => byName(plan, "aws:s3/bucket:Bucket", "ops-wal-bucket");
        const logging = () => {
            const l = on(plan, "aws:s3/bucketLogging:BucketLogging", wal().id!);
            assert.equal(l.length, 1, "the WAL bucket has one server access logging configuration");
            return inp(l[0]);
        };
        const logBucket = () => {
            const target = logging().targetBucket;
            const b = ofType(plan, "aws:s3/bucket:Bucket").find((r) => r.id === target || inp(r).bucket === target);
            assert.ok(b, `the log target ${target} is a bucket of this stack`);
            assert.notEqual(b.id, wal().id, "the WAL bucket does not log to itself");
            return b;
        };

        it("records every request to the WAL bucket in a separate log bucket, under a prefix", () => {
            assert.match(logging().targetPrefix, /^[a-z0-9-]+\/$/);
            assert.match(String(inp(logBucket()).bucket), /-access-logs-/);
        });
        it("the log bucket has its own retention", () => {
            const lc = on(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", logBucket().id!);
            assert.equal(lc.length, 1);
            const rules = inp(lc[0]).rules as Json[];
            const expire = rules.find((r) => r.expiration?.days);
            assert.ok(expire && expire.status === "Enabled" && expire.expiration.days >= 90, "log objects expire after their retention");
            assert.ok(rules.some((r) => r.noncurrentVersionExpiration?.noncurrentDays), "noncurrent versions expire too");
        });
        it("the log bucket is private, ACL-free, versioned and SSE-S3 encrypted (the only default encryption S3 logging delivers to)", () => {
            const id = logBucket().id!;
            const block = inp(on(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", id)[0]);
            for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(block[k], true, k);
            assert.equal(inp(on(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", id)[0]).rule.objectOwnership, "BucketOwnerEnforced");
            assert.equal(inp(on(plan, "aws:s3/bucketVersioning:BucketVersioning", id)[0]).versioningConfiguration.status, "Enabled");
            const sse = inp(on(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", id)[0]);
            assert.equal(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
            assert.equal(inp(logBucket()).forceDestroy, false);
        });
        it("its policy admits only the S3 logging service, for the WAL bucket of this account, and only over TLS", () => {
            const policies = on(plan, "aws:s3/bucketPolicy:BucketPolicy", logBucket().id!);
            assert.equal(policies.length, 1);
            const doc = JSON.parse(String(inp(policies[0]).policy));
            const allow = doc.Statement.filter((s: Json) => s.Effect === "Allow");
            assert.equal(allow.length, 1);
            assert.deepEqual(allow[0].Principal, { Service: "logging.s3.amazonaws.com" });
            assert.equal(allow[0].Action, "s3:PutObject");
            assert.match(allow[0].Resource, new RegExp(`/${logging().targetPrefix}\\*$`));
            assert.equal(allow[0].Condition.ArnLike["aws:SourceArn"], `arn:aws:s3:::${inp(wal()).bucket}`);
            assert.equal(allow[0].Condition.StringEquals["aws:SourceAccount"], "123456789012");
            assert.ok(doc.Statement.some((s: Json) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false"));
        });
    });
}
