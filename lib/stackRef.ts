/**
 * The contract between the two stacks: what the primary exports and the standby reads through a
 * StackReference. Production code: the offline fixture for the standby's reference lives in
 * offline/primaryFixture.ts.
 */

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
    "postgresLeaderAddresses",
    "redisMasterAddress",
    "redisMasterName",
    // Secret outputs: the standby region authenticates to the primary's Postgres and Redis with these.
    "pgSuperuserPassword",
    "pgReplicationPassword",
    "pgAppPassword",
    "pgMonitorPassword",
    "redisPassword",
] as const;

export type PrimaryOutputKey = (typeof PRIMARY_OUTPUT_KEYS)[number];
