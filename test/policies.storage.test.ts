/**
 * Storage policies, awsguard style: a happy-path stack (or resource) passes, and each way to break a policy,
 * one field changed, gives exactly that policy's violation.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { kmsAliasName, kmsKeyRotation, s3AccessLogged, s3BucketName, s3BucketSseKms, s3BucketVersioned, s3Lifecycle, s3PublicAccessBlocked, s3TlsOnly } from "../policies/storage";
import { TYPES } from "../policies/support";
import { runResource, runStack, StackResource, withField } from "./support/policyArgs";

const ID = "ops-center-ha-us-east-1-wal-123456789012";

/** The WAL bucket as the program builds it, with every setting resource pointing at its id. */
function happyBucket(): StackResource[] {
    return [
        { type: TYPES.bucket, name: "wal", props: { id: ID, bucket: ID, forceDestroy: false } },
        { type: TYPES.bucket, name: "logs", props: { id: "logs-bucket", bucket: "logs-bucket" } },
        { type: TYPES.bucketVersioning, name: "v", props: { bucket: ID, versioningConfiguration: { status: "Enabled" } } },
        { type: TYPES.bucketSse, name: "sse", props: { bucket: ID, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:us-east-1:1:key/k" } }] } },
        { type: TYPES.bucketPab, name: "pab", props: { bucket: ID, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true } },
        {
            type: TYPES.bucketPolicy, name: "pol",
            props: { bucket: ID, policy: JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] }) },
        },
        { type: TYPES.bucketLifecycle, name: "lc", props: { bucket: ID, rules: [{ status: "Enabled", noncurrentVersionExpiration: { noncurrentDays: 30 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } }] } },
        { type: TYPES.bucketLogging, name: "log", props: { bucket: ID, targetBucket: "logs-bucket", targetPrefix: "wal/" } },
    ];
}

/** The stack with the resource named `name` changed at `path` (undefined removes the field, "DROP" the resource). */
function broken(name: string, path: string, value: unknown): StackResource[] {
    return happyBucket().flatMap((r) => (r.name !== name ? [r] : value === "DROP" ? [] : [{ ...r, props: withField(r.props, path, value) }]));
}

/** Only the WAL bucket's findings (the log bucket of the happy path has no settings of its own). */
async function walFindings(policy: Parameters<typeof runStack>[0], rs: StackResource[]) {
    const out = await runStack(policy, rs);
    return out === "not-applicable" ? out : out.filter((m) => m.includes("bucket wal"));
}

describe("storage policies", () => {
    const cases: [Parameters<typeof runStack>[0], string, string, unknown, RegExp][] = [
        [s3BucketVersioned, "v", "versioningConfiguration.status", "Suspended", /BucketVersioning with status Enabled/],
        [s3BucketVersioned, "v", "", "DROP", /BucketVersioning/],
        [s3BucketSseKms, "sse", "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256", /SSE-KMS/],
        [s3BucketSseKms, "sse", "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId", undefined, /customer key/],
        [s3PublicAccessBlocked, "pab", "blockPublicPolicy", false, /blockPublicPolicy/],
        [s3PublicAccessBlocked, "pab", "restrictPublicBuckets", false, /restrictPublicBuckets/],
        [s3PublicAccessBlocked, "pab", "", "DROP", /public access not blocked/],
        [s3TlsOnly, "pol", "policy", JSON.stringify({ Statement: [] }), /SecureTransport/],
        [s3Lifecycle, "lc", "rules.0.noncurrentVersionExpiration", undefined, /expiry of old versions/],
        [s3Lifecycle, "lc", "rules.0.abortIncompleteMultipartUpload", undefined, /abortIncompleteMultipartUpload/],
        [s3Lifecycle, "lc", "rules.0.status", "Disabled", /lifecycle lacks/],
        [s3AccessLogged, "log", "", "DROP", /BucketLogging/],
        [s3AccessLogged, "log", "targetBucket", ID, /separate target bucket/],
    ];
    for (const policy of [s3BucketVersioned, s3BucketSseKms, s3PublicAccessBlocked, s3TlsOnly, s3Lifecycle, s3AccessLogged]) {
        it(`${policy.name}: the happy-path bucket passes`, async () => {
            assert.deepEqual(await walFindings(policy, happyBucket()), []);
        });
    }
    for (const [policy, name, path, value, re] of cases) {
        it(`${policy.name}: ${name}${path ? `.${path}` : ""} = ${value === undefined ? "(removed)" : JSON.stringify(value)} is a violation`, async () => {
            const rs = broken(name, path, value); // a numeric segment ("rules.0") indexes the array
            const out = await walFindings(policy, rs);
            assert.ok(Array.isArray(out) && out.length === 1 && re.test(out[0]), `got ${JSON.stringify(out)}`);
        });
    }
    const logFindings = async (policy: Parameters<typeof runStack>[0], rs: StackResource[]) => {
        const out = await runStack(policy, rs);
        return out === "not-applicable" ? out : out.filter((m) => m.includes("bucket logs"));
    };
    const logSse = (sseAlgorithm: string): StackResource => ({ type: TYPES.bucketSse, name: "logs-sse", props: { bucket: "logs-bucket", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm } }] } });
    it("s3-bucket-sse-kms: the server access log bucket passes with SSE-S3 (S3 log delivery's documented encryption)", async () => {
        assert.deepEqual(await logFindings(s3BucketSseKms, [...happyBucket(), logSse("AES256")]), []);
    });
    it("s3-bucket-sse-kms: the server access log bucket with aws:kms is a violation", async () => {
        const out = await logFindings(s3BucketSseKms, [...happyBucket(), logSse("aws:kms")]);
        assert.ok(Array.isArray(out) && out.length === 1 && /must be SSE-S3 \(AES256\), not aws:kms/.test(out[0]), JSON.stringify(out));
    });
    it("s3-access-logged: the server access log bucket itself needs no access logging", async () => {
        assert.deepEqual(await logFindings(s3AccessLogged, happyBucket()), []);
    });
    it("s3-access-logged: a bucket is a log bucket only while a BucketLogging targets it", async () => {
        const out = await logFindings(s3AccessLogged, broken("log", "", "DROP"));
        assert.ok(Array.isArray(out) && out.length === 1 && /no BucketLogging/.test(out[0]), JSON.stringify(out));
    });
    it("bucket policies are not applicable to a stack without buckets", async () => {
        assert.equal(await runStack(s3BucketVersioned, [{ type: TYPES.vpc, name: "v", props: {} }]), "not-applicable");
    });

    it("s3-bucket-name: a valid name passes; too long, upper case, adjacent dots and reserved prefixes fail", async () => {
        const run = (bucket: unknown) => runResource(s3BucketName, { type: TYPES.bucket, props: { bucket } });
        assert.deepEqual(await run(ID), []);
        for (const bad of ["a".repeat(64), "Ops-Bucket", "ops..bucket", "xn--bucket", "192.168.1.1", "ab"]) assert.equal((await run(bad) as string[]).length, 1, bad);
        assert.equal(await runResource(s3BucketName, { type: TYPES.vpc, props: {} }), "not-applicable");
    });

    it("kms-key-rotation: rotation on and a 30-day window pass; rotation off or a short window fail", async () => {
        const key = { enableKeyRotation: true, deletionWindowInDays: 30 };
        const run = (props: Record<string, unknown>, config = {}) => runResource(kmsKeyRotation, { type: TYPES.kmsKey, props, config });
        assert.deepEqual(await run(key), []);
        assert.match((await run(withField(key, "enableKeyRotation", false)) as string[])[0], /enableKeyRotation/);
        assert.match((await run(withField(key, "deletionWindowInDays", 7)) as string[])[0], /below 30/);
        assert.deepEqual(await run(withField(key, "deletionWindowInDays", 7), { minDeletionWindowDays: 7 }), [], "the threshold is config");
    });

    it("kms-alias-name: alias/<name> passes; no prefix, bad characters and alias/aws/ fail", async () => {
        const run = (name: string) => runResource(kmsAliasName, { type: TYPES.kmsAlias, props: { name } });
        assert.deepEqual(await run("alias/ops-center-ha-us-east-1-wal"), []);
        for (const bad of ["ops-wal", "alias/ops wal", "alias/aws/s3"]) assert.equal((await run(bad) as string[]).length, 1, bad);
    });
});
