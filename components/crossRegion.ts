/**
 * Everything that ties the two regions together, created only by the standby stack (deployed second), so
 * that no two stacks reference each other: the primary never reads the standby's outputs.
 *
 * - VPC peering requested from the standby VPC, accepted in the primary region (`primaryProvider`), routes to
 *   the other VPC's CIDR on both sides' private route tables.
 * - Replication ports on both data security groups, from the peer VPC's CIDR only: Postgres 5432, Patroni REST
 *   8008, HAProxy 5000 (the Patroni standby cluster follows the primary's leader through it), Redis 6379 and
 *   Sentinel 26379 (the standby-region replica, priority 0).
 * - S3 cross-region replication of the primary's WAL bucket into the standby's, with a least-privilege role.
 *   Delete markers ARE replicated: the standby copy then follows WAL-G's retention in the primary instead of
 *   growing forever, and nothing is lost to a mistaken or malicious delete, because both buckets are versioned
 *   and keep noncurrent versions for at least 30 days, and S3 never replicates the permanent deletion of a
 *   version. Replication Time Control (15 min, with metrics) is on by default: the RPO argument of the design
 *   (fix 4) must not rest on best-effort replication.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Ports opened between the regions' data hosts, from the peer CIDR only. */
export const REPLICATION_PORTS: readonly { readonly port: number; readonly what: string }[] = [
    { port: 5432, what: "Postgres" },
    { port: 8008, what: "Patroni REST API" },
    { port: 5000, what: "HAProxy to the Patroni leader" },
    { port: 6379, what: "Redis" },
    { port: 26379, what: "Redis Sentinel" },
];

/** One region's side of the tie. */
export interface CrossRegionSide {
    /** AWS region. */
    readonly region: string;
    /** VPC id. */
    readonly vpcId: pulumi.Input<string>;
    /** VPC CIDR. */
    readonly vpcCidr: pulumi.Input<string>;
    /** Private route tables (one per zone). */
    readonly privateRouteTableIds: pulumi.Input<string[]>;
    /** How many private route tables there are (drives how many routes exist; must match the ids). */
    readonly routeTableCount: number;
    /** Security group of the data hosts. */
    readonly dataSecurityGroupId: pulumi.Input<string>;
    /** WAL bucket name. */
    readonly bucketName: pulumi.Input<string>;
    /** WAL bucket ARN. */
    readonly bucketArn: pulumi.Input<string>;
    /** ARN of the WAL bucket's KMS key. */
    readonly kmsKeyArn: pulumi.Input<string>;
}

export interface CrossRegionArgs {
    /** The primary region (from the primary stack's StackReference outputs). */
    readonly primary: CrossRegionSide;
    /** This (standby) region. */
    readonly standby: CrossRegionSide;
    /** An AWS provider for the primary's region: the accepter, primary routes and rules, and the replication config. */
    readonly primaryProvider: aws.Provider;
    /** S3 Replication Time Control (default true). */
    readonly replicationTimeControl?: boolean;
    /** Tags added to every resource. */
    readonly tags?: Record<string, string>;
}

export class CrossRegion extends pulumi.ComponentResource {
    readonly peeringConnectionId: pulumi.Output<string>;
    readonly replicationRoleArn: pulumi.Output<string>;

    constructor(name: string, args: CrossRegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:CrossRegion", name, {}, opts);
        const { primary, standby } = args;
        if (primary.region === standby.region) throw new Error(`CrossRegion: primary and standby are both in ${primary.region}; they must differ`);
        // Retained on delete, all of it: promotion drops this component while the primary region (and IAM's
        // us-east-1 control plane) may be down, so no delete may call an API there. The old peering, routes, rules,
        // replication role and configuration are removed later by README "Region promotion" step 5 (clean-up).
        const here = { parent: this, retainOnDelete: true };
        const there = { parent: this, provider: args.primaryProvider, retainOnDelete: true };
        const tags = (n: string) => ({ ...args.tags, Name: n });

        // Peering: requested here, accepted in the primary region (cross-region peering cannot auto-accept).
        const peering = new aws.ec2.VpcPeeringConnection(`${name}-peering`, {
            vpcId: standby.vpcId,
            peerVpcId: primary.vpcId,
            peerRegion: primary.region,
            autoAccept: false,
            tags: tags(`${name}-peering`),
        }, here);
        const accepter = new aws.ec2.VpcPeeringConnectionAccepter(`${name}-peering`, {
            vpcPeeringConnectionId: peering.id,
            autoAccept: true,
            tags: tags(`${name}-peering`),
        }, there);
        this.peeringConnectionId = peering.id;

        const routes = (side: CrossRegionSide, other: CrossRegionSide, label: string, opts: pulumi.CustomResourceOptions) => {
            for (let i = 0; i < side.routeTableCount; i++) {
                new aws.ec2.Route(`${name}-${label}-to-peer-${i}`, {
                    routeTableId: pulumi.output(side.privateRouteTableIds).apply((ids) => {
                        if (ids.length !== side.routeTableCount) {
                            throw new Error(`CrossRegion ${label} privateRouteTableIds has ${ids.length} tables; routeTableCount says ${side.routeTableCount}`);
                        }
                        return ids[i];
                    }),
                    destinationCidrBlock: other.vpcCidr,
                    vpcPeeringConnectionId: accepter.id,
                }, { ...opts, dependsOn: [accepter] });
            }
        };
        routes(standby, primary, "standby", here);
        routes(primary, standby, "primary", there);

        const rules = (side: CrossRegionSide, other: CrossRegionSide, label: string, opts: pulumi.CustomResourceOptions) => {
            for (const p of REPLICATION_PORTS) {
                new aws.vpc.SecurityGroupIngressRule(`${name}-${label}-from-peer-${p.port}`, {
                    securityGroupId: side.dataSecurityGroupId,
                    ipProtocol: "tcp",
                    fromPort: p.port,
                    toPort: p.port,
                    cidrIpv4: other.vpcCidr,
                    // EC2 allows only a-zA-Z0-9 space and ._-:/()#,@[]+=&;{}!$* here (lib/awsRules.ts): no apostrophe.
                    description: `${p.what} from the ${label === "primary" ? "standby" : "primary"} region VPC`,
                }, opts);
            }
        };
        rules(standby, primary, "standby", here);
        rules(primary, standby, "primary", there);

        // S3 replication: primary bucket -> standby bucket.
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const role = new aws.iam.Role(`${name}-replication`, {
            description: `S3 replication of the WAL bucket ${primary.region} -> ${standby.region}`,
            assumeRolePolicy: identity.accountId.apply((account) => JSON.stringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Principal: { Service: "s3.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: { StringEquals: { "aws:SourceAccount": account } },
                }],
            })),
            tags: tags(`${name}-replication`),
        }, here);
        const policy = pulumi.all([primary.bucketArn, standby.bucketArn, primary.kmsKeyArn, standby.kmsKeyArn])
            .apply(([src, dst, srcKey, dstKey]) => JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    { Sid: "SourceBucket", Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: src },
                    { Sid: "SourceObjects", Effect: "Allow",
                      Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"], Resource: `${src}/*` },
                    { Sid: "DestinationObjects", Effect: "Allow",
                      Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: `${dst}/*` },
                    // With S3 Bucket Keys the encryption context is the bucket ARN, without them the object ARN.
                    { Sid: "DecryptSource", Effect: "Allow", Action: "kms:Decrypt", Resource: srcKey,
                      Condition: { StringEquals: { "kms:ViaService": `s3.${primary.region}.amazonaws.com` },
                                   StringLike: { "kms:EncryptionContext:aws:s3:arn": [src, `${src}/*`] } } },
                    { Sid: "EncryptDestination", Effect: "Allow", Action: ["kms:Encrypt", "kms:GenerateDataKey"], Resource: dstKey,
                      Condition: { StringEquals: { "kms:ViaService": `s3.${standby.region}.amazonaws.com` },
                                   StringLike: { "kms:EncryptionContext:aws:s3:arn": [dst, `${dst}/*`] } } },
                ],
            }));
        const rolePolicy = new aws.iam.RolePolicy(`${name}-replication`, { role: role.id, policy }, here);
        this.replicationRoleArn = role.arn;

        const rtc = args.replicationTimeControl ?? true;
        new aws.s3.BucketReplicationConfig(`${name}-wal`, {
            bucket: primary.bucketName,
            role: role.arn,
            rules: [{
                id: `wal-to-${standby.region}`,
                status: "Enabled",
                priority: 1,
                filter: {},
                deleteMarkerReplication: { status: "Enabled" },
                sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
                destination: {
                    bucket: standby.bucketArn,
                    storageClass: "STANDARD",
                    encryptionConfiguration: { replicaKmsKeyId: standby.kmsKeyArn },
                    ...(rtc
                        ? {
                              replicationTime: { status: "Enabled", time: { minutes: 15 } },
                              metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
                          }
                        : {}),
                },
            }],
        }, { ...there, dependsOn: [rolePolicy] });

        this.registerOutputs({ peeringConnectionId: this.peeringConnectionId, replicationRoleArn: this.replicationRoleArn });
    }
}
