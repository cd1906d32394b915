/**
 * The region's WAL-G / backup bucket: versioned, SSE-KMS with a customer key of this region (rotation on,
 * S3 Bucket Key on), all public access blocked, ACLs disabled, TLS only, and no put with another encryption
 * or another key. Lifecycle: noncurrent versions expire after `max(30, retentionDays)` days, incomplete
 * multipart uploads are aborted after 7 days, expired delete markers are cleaned up. Current objects never
 * expire here: WAL-G's own retention (`delete retain`) removes old base backups together with their WAL, in
 * the right order; an age-based expiry could delete the only base backup that the newest WAL needs.
 *
 * In the standby region this bucket is the replication destination (CrossRegion) and the promoted
 * cluster's own archive.
 *
 * Every request to it is recorded by S3 server access logging in a log bucket of its own (S3 User Guide, "Enabling
 * Amazon S3 server access logging"): same region and account (S3 requires both), SSE-S3 (log delivery cannot
 * write to a bucket whose default encryption is SSE-KMS), ACLs disabled with delivery granted by a bucket policy
 * to `logging.s3.amazonaws.com` for this WAL bucket and account only, all public access blocked, TLS only,
 * versioned, and its own retention: log objects expire after `ACCESS_LOG_RETENTION_DAYS`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { walBucketName } from "../lib/placement";

/** Shortest noncurrent-version retention, days. */
export const MIN_NONCURRENT_DAYS = 30;
/** Incomplete multipart uploads are aborted after this many days. */
export const ABORT_MULTIPART_DAYS = 7;

/** Days the WAL bucket's access logs are kept. */
export const ACCESS_LOG_RETENTION_DAYS = 365;
/** Key prefix of the access log objects in the log bucket. */
export const ACCESS_LOG_PREFIX = "wal-bucket/";

/** The log bucket's name: the WAL bucket's, `-wal-<account>` becoming `-access-logs-<account>`, within S3's 63. */
export function accessLogBucketName(walName: string): string {
    const m = /^(.*)-wal-(\d{12})$/.exec(walName);
    if (!m) throw new Error(`WAL bucket name ${JSON.stringify(walName)}: expected <head>-wal-<account id>`);
    const tail = `-access-logs-${m[2]}`;
    if (m[1].length + tail.length <= 63) return m[1] + tail;
    const hash = createHash("sha256").update(m[1]).digest("hex").slice(0, 6);
    return `${m[1].slice(0, 63 - tail.length - hash.length - 1).replace(/-+$/, "")}-${hash}${tail}`;
}

export interface WalBucketArgs {
    /** Pulumi project name (part of the bucket name). */
    readonly project: string;
    /** Pulumi stack name (part of the bucket name). */
    readonly stack: string;
    /** AWS region of the bucket (the stack's region). */
    readonly region: string;
    /** Days base backups and WAL are kept (`backupRetentionDays`); noncurrent versions are kept at least as long. */
    readonly retentionDays: number;
    /** Tags added to every resource. */
    readonly tags?: Record<string, string>;
}

export class WalBucket extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    readonly kmsKeyArn: pulumi.Output<string>;

    constructor(name: string, args: WalBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:WalBucket", name, {}, opts);
        const parent = { parent: this };
        if (!Number.isInteger(args.retentionDays) || args.retentionDays < 1) {
            throw new Error(`WalBucket retentionDays = ${args.retentionDays}: must be a positive integer`);
        }
        const tags = (n: string) => ({ ...args.tags, Name: n });
        const identity = aws.getCallerIdentityOutput({}, parent);

        // The key, the WAL bucket and its access log outlive any `pulumi destroy` or rename: a key scheduled for
        // deletion makes every backup unreadable. Protected (the engine refuses to delete or replace them) and
        // retained (dropped from the stack, never deleted in AWS): README "Tearing down".
        const keep = { parent: this, protect: true, retainOnDelete: true } as const;
        const key = new aws.kms.Key(`${name}-key`, {
            description: `WAL-G archive and base backups of ${args.project}/${args.stack} (${args.region})`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            tags: tags(`${name}-key`),
        }, { ...keep });
        new aws.kms.Alias(`${name}-key`, { name: `alias/${args.project}-${args.stack}-wal`, targetKeyId: key.keyId }, parent);

        const bucket = new aws.s3.Bucket(`${name}-bucket`, {
            bucket: identity.accountId.apply((accountId) =>
                walBucketName({ project: args.project, stack: args.stack, region: args.region, accountId })),
            forceDestroy: false,
            tags: tags(`${name}-bucket`),
        }, { ...keep });

        const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
            bucket: bucket.id,
            rule: { objectOwnership: "BucketOwnerEnforced" },
        }, parent);
        const publicBlock = new aws.s3.BucketPublicAccessBlock(`${name}-public-block`, {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, parent);
        const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
            bucket: bucket.id,
            versioningConfiguration: { status: "Enabled" },
        }, parent);
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
            bucket: bucket.id,
            rules: [{
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
                bucketKeyEnabled: true,
            }],
        }, parent);

        // Deny plain HTTP, and puts that ask for another algorithm or another key. Puts without encryption
        // headers are allowed: the bucket default (this key) applies, which is what WAL-G does when no
        // WALG_S3_SSE* is set. When WAL-G sends a key, it must send this key's ARN (the kmsKeyArn output).
        // S3 replication writes with s3:ReplicateObject, which these statements do not touch.
        const policy = pulumi.all([bucket.arn, key.arn]).apply(([arn, keyArn]) => JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: [arn, `${arn}/*`],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
                {
                    Sid: "DenyOtherEncryption",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:PutObject",
                    Resource: `${arn}/*`,
                    Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
                },
                {
                    Sid: "DenyOtherKmsKey",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:PutObject",
                    Resource: `${arn}/*`,
                    Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } },
                },
            ],
        }));
        // After the public access block: a policy PUT racing it could be judged against the old settings.
        new aws.s3.BucketPolicy(`${name}-policy`, { bucket: bucket.id, policy }, { parent: this, dependsOn: [publicBlock, ownership] });

        new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
            bucket: bucket.id,
            rules: [
                {
                    id: "noncurrent-versions",
                    status: "Enabled",
                    filter: {},
                    noncurrentVersionExpiration: { noncurrentDays: Math.max(MIN_NONCURRENT_DAYS, args.retentionDays) },
                    expiration: { expiredObjectDeleteMarker: true },
                },
                {
                    id: "abort-incomplete-multipart",
                    status: "Enabled",
                    filter: {},
                    abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
                },
            ],
        }, { parent: this, dependsOn: [versioning] });

        // Server access log of the WAL bucket, in a log bucket of its own.
        const logBucket = new aws.s3.Bucket(`${name}-access-logs`, {
            bucket: bucket.bucket.apply(accessLogBucketName),
            forceDestroy: false,
            tags: tags(`${name}-access-logs`),
        }, { ...keep });
        const logOwnership = new aws.s3.BucketOwnershipControls(`${name}-access-logs-ownership`, {
            bucket: logBucket.id,
            rule: { objectOwnership: "BucketOwnerEnforced" },
        }, parent);
        const logPublicBlock = new aws.s3.BucketPublicAccessBlock(`${name}-access-logs-public-block`, {
            bucket: logBucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, parent);
        const logVersioning = new aws.s3.BucketVersioning(`${name}-access-logs-versioning`, {
            bucket: logBucket.id,
            versioningConfiguration: { status: "Enabled" },
        }, parent);
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-access-logs-sse`, {
            bucket: logBucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
        }, parent);
        const logPolicy = pulumi.all([logBucket.arn, bucket.arn, identity.accountId]).apply(([arn, source, accountId]) => JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: [arn, `${arn}/*`],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
                {
                    Sid: "S3ServerAccessLogsOfTheWalBucket",
                    Effect: "Allow",
                    Principal: { Service: "logging.s3.amazonaws.com" },
                    Action: "s3:PutObject",
                    Resource: `${arn}/${ACCESS_LOG_PREFIX}*`,
                    Condition: { ArnLike: { "aws:SourceArn": source }, StringEquals: { "aws:SourceAccount": accountId } },
                },
            ],
        }));
        const logPolicyResource = new aws.s3.BucketPolicy(`${name}-access-logs-policy`, { bucket: logBucket.id, policy: logPolicy }, { parent: this, dependsOn: [logPublicBlock, logOwnership] });
        new aws.s3.BucketLifecycleConfiguration(`${name}-access-logs-lifecycle`, {
            bucket: logBucket.id,
            rules: [
                {
                    id: "access-log-retention",
                    status: "Enabled",
                    filter: {},
                    expiration: { days: ACCESS_LOG_RETENTION_DAYS },
                    noncurrentVersionExpiration: { noncurrentDays: ABORT_MULTIPART_DAYS },
                },
                {
                    id: "abort-incomplete-multipart",
                    status: "Enabled",
                    filter: {},
                    abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
                },
            ],
        }, { parent: this, dependsOn: [logVersioning] });
        // After the policy that lets the logging service deliver.
        new aws.s3.BucketLogging(`${name}-access-logging`, {
            bucket: bucket.id,
            targetBucket: logBucket.id,
            targetPrefix: ACCESS_LOG_PREFIX,
        }, { parent: this, dependsOn: [logPolicyResource] });

        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.kmsKeyArn = key.arn;
        this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn });
    }
}
