/**
 * Shared helpers of the policy modules: the policy shape we require (severity, one-line remediation), loose
 * access to resource properties, and the facts several policies read (the stack's role, durations, tags).
 * Plain functions only: importing this never starts the pack's gRPC server.
 */
import {
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import type { Resource } from "@pulumi/pulumi";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ResourceClass = new (name: string, args: any, ...rest: any[]) => Resource;

/**
 * A stand-in resource class for a type token: the policy SDK reads only its `__pulumiType` (policy.ts
 * getPulumiType), so the pack filters by type exactly as with the provider's class, without loading the provider.
 */
function classOf(token: string): ResourceClass {
    return { __pulumiType: token } as unknown as ResourceClass;
}

/** `validateResourceOfType` for a type token; the callback gets the props as plain JSON. */
export function forType(token: string, validate: (p: Props, args: ResourceValidationArgs, report: ReportViolation) => void): ResourceValidation {
    return validateResourceOfType(classOf(token), (r, args, report) => validate(r as unknown as Props, args, report));
}

/**
 * Like `validateStackResourcesOfType` for a type token (runs only when the stack has resources of that type,
 * with the same `__pulumiType` fast path), but the callback keeps the whole stack in `args.resources`:
 * the SDK's helper narrows it to that type, and these policies compare a resource with its neighbours.
 */
export function forStackType(token: string, validate: (rs: PolicyResource[], args: StackValidationArgs, report: ReportViolation) => void): StackValidation {
    const fn = (args: StackValidationArgs, report: ReportViolation) => {
        const rs = args.resources.filter((r) => r.type === token);
        if (rs.length === 0) args.notApplicable(`Policy only applies to resources of type '${token}'`);
        return validate(rs, args, report);
    };
    return Object.assign(fn, { __pulumiType: token });
}

/** What every policy of this pack carries beyond the SDK's minimum. */
interface Documented {
    /** How bad a violation is. */
    readonly severity: Severity;
    /** One line: how to fix a violation. */
    readonly remediationSteps: string;
}
export type ResourcePolicy = ResourceValidationPolicy & Documented;
export type StackPolicy = StackValidationPolicy & Documented;
export type PackPolicy = ResourcePolicy | StackPolicy;

/** Resource properties as plain JSON (the policy runtime deserialises them so). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Props = Record<string, any>;

/** The props of a resource, untyped (the SDK types them per resource class; we read the JSON). */
export function props(r: PolicyResource | { props: unknown }): Props {
    return r.props as Props;
}

/** All resources of `type` (a full type token) in a stack. */
export function resourcesOf(args: StackValidationArgs, type: string): PolicyResource[] {
    return args.resources.filter((r) => r.type === type);
}

export const TYPES = {
    bucket: "aws:s3/bucket:Bucket",
    bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
    bucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    bucketPab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    bucketLogging: "aws:s3/bucketLogging:BucketLogging",
    kmsKey: "aws:kms/key:Key",
    kmsAlias: "aws:kms/alias:Alias",
    instance: "aws:ec2/instance:Instance",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    iamRole: "aws:iam/role:Role",
    iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamPolicy: "aws:iam/policy:Policy",
    ssmParameter: "aws:ssm/parameter:Parameter",
    vpc: "aws:ec2/vpc:Vpc",
    record: "aws:route53/record:Record",
    healthCheck: "aws:route53/healthCheck:HealthCheck",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    service: "docker:index/service:Service",
    network: "docker:index/network:Network",
    serviceConfig: "docker:index/serviceConfig:ServiceConfig",
} as const;

export type Role = "primary" | "standby";

/**
 * The stack's role. A stack tag `opscenter:role` wins (set it with `pulumi stack tag set opscenter:role primary`);
 * otherwise the `role` tag the program puts on its VPC and KMS key. Undefined when nothing says.
 */
export function stackRole(args: StackValidationArgs): Role | undefined {
    const tagged = args.stackTags?.get("opscenter:role");
    if (tagged === "primary" || tagged === "standby") return tagged;
    for (const type of [TYPES.vpc, TYPES.kmsKey, TYPES.bucket]) {
        for (const r of resourcesOf(args, type)) {
            const role = props(r).tags?.role;
            if (role === "primary" || role === "standby") return role;
        }
    }
    return undefined;
}

/** The role, or `notApplicable` (reported as such, never a pass) when the stack does not say. */
export function requireRole(args: StackValidationArgs): Role {
    const role = stackRole(args);
    if (!role) args.notApplicable("the stack's role is unknown: no opscenter:role stack tag and no role tag on a VPC, KMS key or bucket");
    return role as Role;
}

/** Seconds of a Docker duration ("30s", "1m30s", "500ms", "2h"); NaN when unparsable. */
export function seconds(d: unknown): number {
    if (typeof d === "number") return d / 1e9;
    if (typeof d !== "string" || d === "") return NaN;
    const re = /(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g;
    let total = 0;
    let matched = "";
    for (const m of d.matchAll(re)) {
        const n = Number(m[1]);
        total += n * { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 }[m[2] as "h"];
        matched += m[0];
    }
    return matched === d ? total : NaN;
}

/** A service's short name for messages (`opscenter-frontend`). */
export function serviceName(r: PolicyResource): string {
    return String(props(r).name ?? r.name);
}

/** Placement constraints of a Swarm service. */
export function constraints(p: Props): string[] {
    return (p.taskSpec?.placement?.constraints ?? []) as string[];
}

/** True when the service keeps data: a named volume, or an image configured as stateful. */
export function isStateful(p: Props, statefulImages: readonly string[]): boolean {
    const mounts = (p.taskSpec?.containerSpec?.mounts ?? []) as Props[];
    if (mounts.some((m) => m.type === "volume")) return true;
    const image = String(p.taskSpec?.containerSpec?.image ?? "");
    return statefulImages.some((s) => image === s || image.startsWith(`${s}:`) || image.startsWith(`${s}@`));
}

/** Images whose services are stateful even without a volume (config default of the container policies). */
export const STATEFUL_IMAGES = ["ghcr.io/zalando/spilo-17", "quay.io/coreos/etcd", "registry.k8s.io/etcd", "redis"];

/** Replicas of a replicated service; undefined for a global one. */
export function replicas(p: Props): number | undefined {
    if (p.mode?.global) return undefined;
    return Number(p.mode?.replicated?.replicas ?? 1);
}

/** Decoded text of a docker ServiceConfig (its `data` is base64). */
export function configText(p: Props): string {
    return Buffer.from(String(p.data ?? ""), "base64").toString("utf8");
}
