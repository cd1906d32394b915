/**
 * Test support: the outputs a standby's StackReference returns offline, invented from the primary's
 * Pulumi.<stack>.yaml so that CIDRs and regions agree with the real primary.
 */
import * as path from "node:path";
import { createHash } from "node:crypto";
import { MOCK_ACCOUNT } from "./mocks";
import { readStackConfig } from "./engine";
import { walBucketName } from "../lib/placement";
import type { PrimaryOutputKey } from "../lib/stackRef";

function mockSecret(name: string): string {
    return `mock${createHash("sha256").update(`primary:${name}`).digest("hex").slice(0, 28)}`;
}

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
        postgresLeaderAddresses: ["10.10.20.10", "10.10.21.10", "10.10.22.10"],
        redisMasterAddress: "10.10.20.11",
        redisMasterName: "opscenter",
        // Shaped like the mock engine's generated passwords, so that the leak test recognises them too.
        pgSuperuserPassword: mockSecret("pgSuperuser"),
        pgReplicationPassword: mockSecret("pgReplication"),
        pgAppPassword: mockSecret("pgApp"),
        pgMonitorPassword: mockSecret("pgMonitor"),
        redisPassword: mockSecret("redis"),
    };
}
