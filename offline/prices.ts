/**
 * The pinned price table of `npm run cost`: AWS public on-demand list prices, USD, for the two regions this
 * program deploys to (us-east-1 and us-west-2 list the same prices for everything here). Pinned on PRICES_DATE
 * from the AWS pricing pages named in `source`; no price is fetched at run time. Re-check before budgeting.
 */
export const PRICES_DATE = "2026-11-29";
export const HOURS_PER_MONTH = 730;

export interface PriceTable {
    /** On-demand Linux, USD per hour, by region then instance type. */
    readonly ec2Hourly: Readonly<Record<string, Readonly<Record<string, number>>>>;
    readonly ebsGp3GbMonth: number;
    readonly natGatewayHourly: number;
    readonly natGatewayPerGb: number;
    /** Every public IPv4 address, attached or idle (Elastic IPs and auto-assigned), since 2024-02-01. */
    readonly publicIpv4Hourly: number;
    /** Interface VPC endpoint (PrivateLink), per endpoint per zone (ENI) per hour. */
    readonly interfaceEndpointAzHourly: number;
    readonly route53ZoneMonth: number;
    readonly route53HealthCheckAwsMonth: number;
    readonly route53HealthCheckNonAwsMonth: number;
    /** Each optional feature (HTTPS, string matching, 10 s interval, latency), AWS endpoint. */
    readonly route53HealthCheckFeatureAwsMonth: number;
    readonly route53HealthCheckFeatureNonAwsMonth: number;
    readonly route53QueriesPerMillion: number;
    readonly s3StandardGbMonth: number;
    readonly kmsKeyMonth: number;
    readonly kmsPer10kRequests: number;
    readonly cloudwatchAlarmMonth: number;
    /** Data transfer between us-east-1 and us-west-2 (S3 replication, VPC peering), per GB. */
    readonly interRegionPerGb: number;
    /** Data transfer between Availability Zones of one region, per GB crossing: $0.01 out of one zone plus $0.01 into the other. */
    readonly interAzPerGb: number;
    readonly source: readonly string[];
}

const EC2 = {
    "t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
    "m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384,
    "c6i.large": 0.085, "c6i.xlarge": 0.17, "c6i.2xlarge": 0.34,
    "r6i.large": 0.126, "r6i.xlarge": 0.252, "r6i.2xlarge": 0.504,
};

export const PRICES: PriceTable = {
    ec2Hourly: { "us-east-1": EC2, "us-west-2": EC2 },
    ebsGp3GbMonth: 0.08,
    natGatewayHourly: 0.045,
    natGatewayPerGb: 0.045,
    publicIpv4Hourly: 0.005,
    interfaceEndpointAzHourly: 0.01,
    route53ZoneMonth: 0.5,
    route53HealthCheckAwsMonth: 0.5,
    route53HealthCheckNonAwsMonth: 0.75,
    route53HealthCheckFeatureAwsMonth: 1.0,
    route53HealthCheckFeatureNonAwsMonth: 2.0,
    route53QueriesPerMillion: 0.4,
    s3StandardGbMonth: 0.023,
    kmsKeyMonth: 1.0,
    kmsPer10kRequests: 0.03,
    cloudwatchAlarmMonth: 0.1,
    interRegionPerGb: 0.02,
    interAzPerGb: 0.02,
    source: [
        "aws.amazon.com/ec2/pricing/on-demand (Linux, us-east-1 and us-west-2)",
        "aws.amazon.com/ebs/pricing (gp3 storage; baseline 3000 IOPS / 125 MB/s included)",
        "aws.amazon.com/vpc/pricing (NAT gateway hour and GB processed; public IPv4 address hour)",
        "aws.amazon.com/privatelink/pricing (interface endpoint per AZ-hour, us-east-1 and us-west-2; $0.01/GB processed not counted)",
        "aws.amazon.com/route53/pricing (hosted zone, health checks and optional features, standard queries)",
        "aws.amazon.com/s3/pricing (S3 Standard first 50 TB; replication is billed as inter-region transfer)",
        "aws.amazon.com/kms/pricing (customer managed key, symmetric requests)",
        "aws.amazon.com/cloudwatch/pricing (standard-resolution metric alarm)",
        "aws.amazon.com/ec2/pricing/on-demand#Data_Transfer (between US regions)",
        "aws.amazon.com/ec2/pricing/on-demand#Data_Transfer_within_the_same_AWS_Region (between Availability Zones: $0.01/GB in each direction)",
    ],
};

/** Usage the plan cannot know: stated, printed with every estimate, and overridable. */
export interface UsageAssumptions {
    /** Route53 queries per month for the domain (both failover records answer them). */
    readonly dnsQueriesMillions: number;
    /** GB stored in each WAL/backup bucket (base backups kept + WAL). */
    readonly s3StoredGb: number;
    /** GB of WAL and backups written per month (what S3 replicates and Postgres streams across regions). */
    readonly walGbPerMonth: number;
    /** GB per month of Redis replication to the standby region. */
    readonly redisGbPerMonth: number;
    /** GB per month through each region's NAT gateways (image pulls, package mirrors, AWS APIs). */
    readonly natGbPerMonth: number;
    /** KMS requests per month per key (S3 bucket keys keep this low). */
    readonly kmsRequestsPerMonth: number;
}

export const DEFAULT_USAGE: UsageAssumptions = {
    dnsQueriesMillions: 1,
    s3StoredGb: 200,
    walGbPerMonth: 100,
    redisGbPerMonth: 10,
    natGbPerMonth: 50,
    kmsRequestsPerMonth: 100_000,
};
