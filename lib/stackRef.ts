/**
 * The contract between the two stacks: what the primary exports and the standby reads through a
 * StackReference. Offline, the standby gets these values invented from the primary's stack file.
 */
import * as path from "node:path";
import { createHash } from "node:crypto";
import { MOCK_ACCOUNT } from "./mocks";
import { readStackConfig } from "./offline";
import { walBucketName } from "./placement";

function mockSecret(name: string): string {
    return `mock${createHash("sha256").update(`primary:${name}`).digest("hex").slice(0, 28)}`;
}

/** Outputs of the primary stack that the standby stack reads. */
export const PRIMARY_OUTPUT_KEYS = [
    "region",
    "vpcId",
    "vpcCidr",
    "privateRouteTableIds",
    "dataSecurityGroupId",
    "walBucketName",
    "walBucketArn",
    "walKmsKeyArn",
    "postgresLeaderAddress",
    "redisMasterAddress",
    "redisMasterName",
    // Secret outputs: the standby region authenticates to the primary's Postgres and Redis with these.
    "pgSuperuserPassword",
    "pgReplicationPassword",
    "pgAdminPassword",
    "redisPassword",
] as const;

export type PrimaryOutputKey = (typeof PRIMARY_OUTPUT_KEYS)[number];

/**
 * Invented outputs for the stack `fqn` (`org/project/stack`), derived from its Pulumi.<stack>.yaml so that
 * CIDRs and regions agree with the real primary.
 */
export function mockPrimaryOutputs(root: string, fqn: string): Record<PrimaryOutputKey, unknown> {
    const stack = fqn.split("/").pop()!;
    const { values } = readStackConfig(path.resolve(root), stack);
    const region = values["aws:region"] ?? stack;
    return {
        region,
        vpcId: "vpc-0a1b2c3d4e5f60718",
        vpcCidr: values["ops-center-ha:vpcCidr"] ?? "10.10.0.0/16",
        privateRouteTableIds: ["rtb-0aaa0000000000001", "rtb-0aaa0000000000002", "rtb-0aaa0000000000003"],
        dataSecurityGroupId: "sg-0d0d0d0d0d0d0d0d0",
        walBucketName: walBucketName({ project: "ops-center-ha", stack, region, accountId: MOCK_ACCOUNT }),
        walBucketArn: `arn:aws:s3:::${walBucketName({ project: "ops-center-ha", stack, region, accountId: MOCK_ACCOUNT })}`,
        walKmsKeyArn: `arn:aws:kms:${region}:123456789012:key/00000000-0000-4000-8000-000000000001`,
        postgresLeaderAddress: "10.10.20.10",
        redisMasterAddress: "10.10.20.11",
        redisMasterName: "opscenter",
        // Shaped like the mock engine's generated passwords, so that the leak test recognises them too.
        pgSuperuserPassword: mockSecret("pgSuperuser"),
        pgReplicationPassword: mockSecret("pgReplication"),
        pgAdminPassword: mockSecret("pgAdmin"),
        redisPassword: mockSecret("redis"),
    };
}
