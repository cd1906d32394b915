/**
 * IAM for a point-in-time restore: what the restoring region's data hosts (Spilo's clone_with_wale, the Redis
 * restore step) need on the SOURCE bucket, and nothing more: list the bucket, read the source cluster's WAL-G
 * path and the one RDB copy, decrypt with the source bucket's KMS key through S3 of that bucket's region.
 * Pure: a JSON policy statement list for `components/swarmHosts.ts`.
 */
import { walS3Prefix } from "../renderers/spiloPaths";

/** The source of a restore, as validated by config/restore.ts. */
export interface RestoreAccessInput {
    readonly fromBucket: string;
    readonly bucketRegion: string;
    readonly fromRegion: string;
    readonly fromScope: string;
    readonly kmsKeyArn: string;
    readonly redisRdbKey?: string;
    /** Postgres major of the source cluster (part of its WAL-G path). */
    readonly pgVersion: number;
}

/** IAM statements (Sids RestoreSource*) granting read on the source bucket and decrypt on its key. */
export function restoreReadStatements(src: RestoreAccessInput, partition: string): object[] {
    const bucketArn = `arn:${partition}:s3:::${src.fromBucket}`;
    // walS3Prefix is s3://<bucket>/<key prefix>: the object ARNs take the key prefix.
    const walKeyPrefix = walS3Prefix(src.fromBucket, src.fromScope, src.fromRegion, src.pgVersion).slice(`s3://${src.fromBucket}/`.length);
    const objects = [`${bucketArn}/${walKeyPrefix}/*`, ...(src.redisRdbKey ? [`${bucketArn}/${src.redisRdbKey}`] : [])];
    return [
        { Sid: "RestoreSourceBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: bucketArn },
        { Sid: "RestoreSourceObjects", Effect: "Allow", Action: "s3:GetObject", Resource: objects },
        { Sid: "RestoreSourceKey", Effect: "Allow", Action: "kms:Decrypt", Resource: src.kmsKeyArn,
          Condition: { StringEquals: { "kms:ViaService": `s3.${src.bucketRegion}.amazonaws.com` } } },
    ];
}
