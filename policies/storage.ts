/**
 * Storage policies: S3 buckets (versioned, SSE-KMS, public access blocked, TLS-only, lifecycle, access logged),
 * their names, and the KMS keys that encrypt them. Since AWS provider v6/v7 a bucket's settings are separate
 * resources that point at it by `bucket`, so these are stack policies: each bucket and what points at it.
 */
import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { forStackType, forType, props, Props, resourcesOf, ResourcePolicy, StackPolicy, TYPES } from "./support";

/** The values a sibling's `bucket` input may hold for bucket `b`: its id (= name in AWS) or its name. */
function refs(b: PolicyResource): Set<string> {
    const p = props(b);
    return new Set([p.id, p.bucket, p.arn].filter((x): x is string => typeof x === "string" && x !== ""));
}

/** Runs `check` for every bucket with the resources of `type` that point at it. */
function perBucket(type: string, check: (bucket: PolicyResource, attached: Props[], report: ReportViolation) => void) {
    return forStackType(TYPES.bucket, (buckets: PolicyResource[], args: StackValidationArgs, report: ReportViolation) => {
        for (const b of buckets) {
            const ids = refs(b);
            const attached = resourcesOf(args, type).map(props).filter((p) => ids.has(String(p.bucket)));
            check(b, attached, report);
        }
    });
}

/**
 * True when bucket `b` is the target of another bucket's server access logging (an `aws:s3/bucketLogging`
 * resource whose targetBucket is this bucket): a log bucket. S3 writes server access logs to it as the logging
 * service, which supports only SSE-S3 (AES256) default encryption on the target bucket; and a log bucket does
 * not log to itself (each delivery would log another entry). Source: AWS, Amazon S3 User Guide, "Enabling Amazon
 * S3 server access logging" (docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html,
 * the destination bucket's default encryption: SSE-S3 only), the page aws-cdk#23385/#23514 built their check on.
 * (aws-cdk#25350 reports that a customer-managed KMS key with a key policy for logging.s3.amazonaws.com also
 * delivers; the pack holds the documented rule.)
 */
export function isLogBucket(b: PolicyResource, args: StackValidationArgs): boolean {
    const ids = refs(b);
    return resourcesOf(args, TYPES.bucketLogging).map(props).some((l) => ids.has(String(l.targetBucket)) && !ids.has(String(l.bucket)));
}

/** Like perBucket, with the stack's args for isLogBucket. */
function perBucketWithArgs(type: string, check: (bucket: PolicyResource, attached: Props[], args: StackValidationArgs, report: ReportViolation) => void) {
    return forStackType(TYPES.bucket, (buckets: PolicyResource[], args: StackValidationArgs, report: ReportViolation) => {
        for (const b of buckets) {
            const ids = refs(b);
            check(b, resourcesOf(args, type).map(props).filter((p) => ids.has(String(p.bucket))), args, report);
        }
    });
}

export const s3BucketVersioned: StackPolicy = {
    name: "s3-bucket-versioned",
    description: "Every S3 bucket has versioning enabled (a deleted or overwritten backup can be recovered).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.s3.BucketVersioning for the bucket with versioningConfiguration.status \"Enabled\".",
    validateStack: perBucket(TYPES.bucketVersioning, (b, attached, report) => {
        if (!attached.some((v) => v.versioningConfiguration?.status === "Enabled")) {
            report(`bucket ${b.name} has no BucketVersioning with status Enabled`, b.urn);
        }
    }),
};

export const s3BucketSseKms: StackPolicy = {
    name: "s3-bucket-sse-kms",
    description: "Every S3 bucket encrypts by default with SSE-KMS under a customer key; a server access log bucket with SSE-S3 (the only encryption S3 log delivery documents).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms and kmsMasterKeyId set (AES256 on a server access log bucket).",
    validateStack: perBucketWithArgs(TYPES.bucketSse, (b, attached, args, report) => {
        const rules = attached.flatMap((s) => (s.rules ?? []) as Props[]);
        if (isLogBucket(b, args)) {
            const algorithms = rules.map((r) => r.applyServerSideEncryptionByDefault?.sseAlgorithm);
            if (algorithms.length === 0 || algorithms.some((a) => a !== "AES256")) {
                report(`bucket ${b.name} receives server access logs: its default encryption must be SSE-S3 (AES256), not ${algorithms.length ? algorithms.join(", ") : "unset"}`, b.urn);
            }
            return;
        }
        const kms = rules.some((r) => {
            const d = r.applyServerSideEncryptionByDefault ?? {};
            return (d.sseAlgorithm === "aws:kms" || d.sseAlgorithm === "aws:kms:dsse") && typeof d.kmsMasterKeyId === "string" && d.kmsMasterKeyId !== "";
        });
        if (!kms) report(`bucket ${b.name} has no default SSE-KMS rule with a customer key (kmsMasterKeyId)`, b.urn);
    }),
};

export const s3PublicAccessBlocked: StackPolicy = {
    name: "s3-public-access-blocked",
    description: "Every S3 bucket blocks public ACLs and policies (all four public access block settings).",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true.",
    validateStack: perBucket(TYPES.bucketPab, (b, attached, report) => {
        const keys = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
        const ok = attached.some((p) => keys.every((k) => p[k] === true));
        if (!ok) {
            const missing = attached.length === 0 ? keys : keys.filter((k) => !attached.some((p) => p[k] === true));
            report(`bucket ${b.name}: public access not blocked (${missing.join(", ")} not true)`, b.urn);
        }
    }),
};

/** True when a policy document denies every request made without TLS. */
export function deniesInsecureTransport(policy: unknown): boolean {
    let doc: Props;
    try {
        doc = typeof policy === "string" ? JSON.parse(policy) : (policy as Props);
    } catch {
        return false;
    }
    const statements = ([] as Props[]).concat(doc?.Statement ?? []);
    return statements.some((s) => {
        const actions = ([] as string[]).concat(s.Action ?? []);
        const cond = s.Condition?.Bool?.["aws:SecureTransport"];
        return s.Effect === "Deny" && (s.Principal === "*" || s.Principal?.AWS === "*") && actions.some((a) => a === "s3:*" || a === "*") && String(cond) === "false";
    });
}

export const s3TlsOnly: StackPolicy = {
    name: "s3-tls-only",
    description: "Every S3 bucket's policy denies requests that do not use TLS (aws:SecureTransport false).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a BucketPolicy statement: Deny, Principal *, Action s3:*, Condition Bool aws:SecureTransport false.",
    validateStack: perBucket(TYPES.bucketPolicy, (b, attached, report) => {
        if (!attached.some((p) => deniesInsecureTransport(p.policy))) report(`bucket ${b.name} has no bucket policy denying aws:SecureTransport false`, b.urn);
    }),
};

export const s3Lifecycle: StackPolicy = {
    name: "s3-lifecycle",
    description: "Every S3 bucket has an enabled lifecycle rule that expires noncurrent versions and aborts incomplete uploads.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a BucketLifecycleConfiguration with noncurrentVersionExpiration and abortIncompleteMultipartUpload rules, status Enabled.",
    validateStack: perBucket(TYPES.bucketLifecycle, (b, attached, report) => {
        const rules = attached.flatMap((l) => (l.rules ?? []) as Props[]).filter((r) => r.status === "Enabled");
        const missing: string[] = [];
        if (!rules.some((r) => r.noncurrentVersionExpiration || r.expiration?.days)) missing.push("an expiry of old versions");
        if (!rules.some((r) => r.abortIncompleteMultipartUpload)) missing.push("abortIncompleteMultipartUpload");
        if (missing.length) report(`bucket ${b.name}: lifecycle lacks ${missing.join(" and ")}`, b.urn);
    }),
};

export const s3AccessLogged: StackPolicy = {
    name: "s3-access-logged",
    description: "Every S3 bucket that holds data has server access logging to another bucket (a log bucket itself is exempt: it does not log to itself).",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.s3.BucketLogging for the bucket with a targetBucket (a log bucket with its own retention).",
    validateStack: perBucketWithArgs(TYPES.bucketLogging, (b, attached, args, report) => {
        const ids = refs(b);
        if (attached.some((l) => ids.has(String(l.targetBucket)))) {
            report(`bucket ${b.name} has no BucketLogging to a separate target bucket: it logs to itself`, b.urn);
            return;
        }
        if (isLogBucket(b, args)) return;
        const ok = attached.some((l) => typeof l.targetBucket === "string" && l.targetBucket !== "");
        if (!ok) report(`bucket ${b.name} has no BucketLogging to a separate target bucket`, b.urn);
    }),
};

/** S3 bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). */
export function bucketNameProblem(name: string): string | undefined {
    if (name.length < 3 || name.length > 63) return `is ${name.length} characters (3-63 allowed)`;
    if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return "must be lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit";
    if (/\.\./.test(name)) return "must not contain two adjacent periods";
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not look like an IP address";
    if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name)) return "uses a prefix or suffix S3 reserves";
    return undefined;
}

export const s3BucketName: ResourcePolicy = {
    name: "s3-bucket-name",
    description: "S3 bucket names follow the S3 naming rules (3-63 characters, lower case, no reserved prefix or suffix).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Rename the bucket to 3-63 lower-case letters, digits, dots or hyphens.",
    validateResource: forType(TYPES.bucket, (p, _args, report) => {
        const name = p.bucket;
        if (typeof name !== "string") return; // auto-named by the provider, which follows the rules
        const problem = bucketNameProblem(name);
        if (problem) report(`bucket name ${JSON.stringify(name)} ${problem}`);
    }),
};

export const kmsKeyRotation: ResourcePolicy = {
    name: "kms-key-rotation",
    description: "Customer KMS keys rotate yearly and wait at least the configured days before deletion.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set enableKeyRotation true and deletionWindowInDays to at least the configured minimum (max 30).",
    configSchema: { properties: { minDeletionWindowDays: { type: "integer", minimum: 7, maximum: 30, default: 30 } } },
    validateResource: forType(TYPES.kmsKey, (p, args, report) => {
        const { minDeletionWindowDays } = args.getConfig<{ minDeletionWindowDays: number }>();
        if (p.enableKeyRotation !== true) report("enableKeyRotation is not true");
        const window = Number(p.deletionWindowInDays ?? 30);
        if (window < minDeletionWindowDays) report(`deletionWindowInDays ${window} is below ${minDeletionWindowDays}`);
    }),
};

/** KMS alias names: `alias/` + letters, digits, / _ -, at most 256 characters, never `alias/aws/`. */
export const kmsAliasName: ResourcePolicy = {
    name: "kms-alias-name",
    description: "KMS alias names follow the KMS API: alias/ then [a-zA-Z0-9/_-], at most 256 characters, not alias/aws/.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Use alias/<letters, digits, /, _ or ->, at most 256 characters in all.",
    validateResource: forType(TYPES.kmsAlias, (p, _args, report) => {
        const name = p.name;
        if (typeof name !== "string") return;
        if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.length > 256 || name.startsWith("alias/aws/")) {
            report(`alias ${JSON.stringify(name)} is not alias/[a-zA-Z0-9/_-]{1,250} or uses the reserved alias/aws/ prefix`);
        }
    }),
};

/**
 * What holds data or decrypts it is protected: a `pulumi destroy`, a rename or a replacing change is refused by the
 * engine instead of deleting it (a KMS key scheduled for deletion makes every backup unreadable). The program also
 * sets `retainOnDelete` on them (dropped from the stack, never deleted in AWS); the analyzer's resource options do
 * not carry it (pulumi/pulumi plugin.AnalyzerResourceOptions: protect, ignoreChanges, deleteBeforeReplace, ...), so
 * the plan test checks that one (test/hostLifecycle.test.ts).
 */
export const dataStoresProtected: ResourcePolicy = {
    name: "data-stores-protected",
    description: "KMS keys, S3 buckets and EBS data volumes are protected against deletion and replacement.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Set the resource options protect: true and retainOnDelete: true (README \"Tearing down\" removes them on purpose).",
    validateResource: [TYPES.kmsKey, TYPES.bucket, "aws:ebs/volume:Volume"].map((type) =>
        forType(type, (_p, args, report) => {
            if (args.opts?.protect !== true) report(`${type.split(":").pop()} ${args.name} is not protected: a destroy, rename or replacing change would delete it`);
        }),
    ),
};

export const storagePolicies = [s3BucketVersioned, s3BucketSseKms, s3PublicAccessBlocked, s3TlsOnly, s3Lifecycle, s3AccessLogged, s3BucketName, kmsKeyRotation, kmsAliasName, dataStoresProtected];
