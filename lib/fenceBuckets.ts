/**
 * Which buckets hold the region fence records (renderers/fence.ts) a stack reads and `npm run promote` writes: this
 * region's WAL bucket and the peer region's. Pure.
 *
 * The peer's bucket name is not read from the peer's stack (a primary never references its standby, and a promoted
 * standby must not need the dead primary's stack): it is the peer's WAL bucket name as `walBucketName` makes it,
 * from the peer's stack name, its region and this account. The peer's stack name is the last segment of
 * `primaryStack` when this region was built as a standby; otherwise (the region built as primary, or after
 * fail-back) the repository's convention, stacks named after their regions (`Pulumi.<region>.yaml`): `peerRegion`.
 */
import { FENCE_DEFAULTS } from "../renderers/fence";
import { walBucketName } from "./placement";

/** The project name every WAL bucket carries (components/region.ts). */
export const PROJECT = "ops-center-ha";

/** One region's fence record location. */
export interface FenceBucket {
    readonly region: string;
    readonly bucket: string;
}

/** The peer stack's name: `primaryStack`'s last segment, else `peerRegion` (see the file comment). */
export function peerStackName(cfg: { readonly primaryStack?: string; readonly peerRegion?: string }): string | undefined {
    return cfg.primaryStack ? cfg.primaryStack.split("/").pop() : cfg.peerRegion;
}

/** The peer region's WAL bucket, or undefined for a stack with no peer region. */
export function peerFenceBucket(cfg: { readonly primaryStack?: string; readonly peerRegion?: string }, accountId: string): FenceBucket | undefined {
    const stack = peerStackName(cfg);
    if (!cfg.peerRegion || !stack) return undefined;
    return { region: cfg.peerRegion, bucket: walBucketName({ project: PROJECT, stack, region: cfg.peerRegion, accountId }) };
}

/** `aws` argv printing a fence record on stdout (exit 0), or failing (NoSuchKey on stderr when there is none). */
export function fenceReadCommand(b: FenceBucket): string[] {
    return ["aws", "s3", "cp", "--only-show-errors", "--region", b.region, `s3://${b.bucket}/${FENCE_DEFAULTS.key}`, "-"];
}

/** `aws` argv writing the record from stdin (the bucket's default encryption, its own KMS key, applies). */
export function fenceWriteCommand(b: FenceBucket): string[] {
    return ["aws", "s3", "cp", "--only-show-errors", "--region", b.region, "--content-type", "text/plain", "-", `s3://${b.bucket}/${FENCE_DEFAULTS.key}`];
}

/** IAM statements a data host needs to read the peer's record (own bucket: the WalObjects statements cover it). */
export function peerFenceReadStatements(b: FenceBucket, partition = "aws"): Record<string, unknown>[] {
    const arn = `arn:${partition}:s3:::${b.bucket}`;
    const prefix = FENCE_DEFAULTS.key.slice(0, FENCE_DEFAULTS.key.lastIndexOf("/") + 1);
    return [
        // ListBucket on the prefix only: without it S3 answers AccessDenied, not NoSuchKey, for a missing record.
        { Sid: "PeerFenceList", Effect: "Allow", Action: "s3:ListBucket", Resource: arn, Condition: { StringLike: { "s3:prefix": `${prefix}*` } } },
        { Sid: "PeerFenceRecord", Effect: "Allow", Action: "s3:GetObject", Resource: `${arn}/${FENCE_DEFAULTS.key}` },
        // The peer bucket's objects are SSE-KMS with the peer's key (S3 Bucket Key on: the encryption context is the bucket ARN).
        { Sid: "PeerFenceKey", Effect: "Allow", Action: "kms:Decrypt", Resource: "*",
          Condition: { StringEquals: { "kms:ViaService": `s3.${b.region}.amazonaws.com`, "kms:EncryptionContext:aws:s3:arn": arn } } },
    ];
}
