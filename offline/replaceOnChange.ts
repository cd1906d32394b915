/**
 * Inputs whose change makes the provider replace the resource (delete and create) instead of updating it, for
 * every resource type this program registers. Bridged providers replace on a Terraform `ForceNew` (SDKv2) or
 * `RequiresReplace` (plugin framework) attribute; the Pulumi schema does not carry that flag, so it is read from
 * the providers' sources:
 * - AWS: hashicorp/terraform-provider-aws, internal/service/<service>/<resource>.go (`ForceNew: true`);
 *   pulumi-aws 7.x bridges terraform-provider-aws 6.x.
 * - Docker: kreuzwerker/terraform-provider-docker internal/provider/resource_docker_*.go (pulumi-docker 4.x/5.x
 *   bridges it): `docker_network`, `docker_secret` and `docker_config` have no Update, so every input replaces;
 *   `docker_service` replaces only on `name` (and `auth`).
 * - random: every input of random_password / random_string / random_id is RequiresReplace (a new value).
 * Paths are input names as the plan records them (camelCase); a nested path ("rootBlockDevice.encrypted")
 * replaces only when that leaf changes. `*` means every input.
 */
export interface ReplaceRule {
    readonly paths: readonly string[];
    /** Where it was read. */
    readonly source: string;
}

const AWS = "terraform-provider-aws internal/service";
const DOCKER = "terraform-provider-docker internal/provider";

export const REPLACE_ON_CHANGE: Readonly<Record<string, ReplaceRule>> = {
    "aws:ec2/instance:Instance": {
        // userData replaces only with userDataReplaceOnChange (CustomizeDiff); otherwise the instance is stopped and started.
        paths: ["ami", "availabilityZone", "subnetId", "associatePublicIpAddress", "keyName", "privateIp", "tenancy", "placementGroup", "hostId", "ebsBlockDevices", "ephemeralBlockDevices", "rootBlockDevice.encrypted", "rootBlockDevice.kmsKeyId", "rootBlockDevice.deleteOnTermination", "networkInterfaces", "cpuOptions", "launchTemplate"],
        source: `${AWS}/ec2/ec2_instance.go`,
    },
    "aws:ec2/vpc:Vpc": { paths: ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"], source: `${AWS}/ec2/vpc_.go` },
    "aws:ec2/subnet:Subnet": { paths: ["vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "ipv6Native"], source: `${AWS}/ec2/vpc_subnet.go` },
    "aws:ec2/securityGroup:SecurityGroup": { paths: ["name", "namePrefix", "description", "vpcId"], source: `${AWS}/ec2/vpc_security_group.go` },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": { paths: ["securityGroupId"], source: `${AWS}/ec2/vpc_security_group_ingress_rule.go (RequiresReplace)` },
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": { paths: ["securityGroupId"], source: `${AWS}/ec2/vpc_security_group_egress_rule.go (RequiresReplace)` },
    "aws:ec2/eip:Eip": { paths: ["domain", "networkBorderGroup", "publicIpv4Pool", "customerOwnedIpv4Pool", "ipamPoolId", "address"], source: `${AWS}/ec2/ec2_eip.go` },
    "aws:ec2/eipAssociation:EipAssociation": { paths: ["allocationId", "allowReassociation", "instanceId", "networkInterfaceId", "privateIpAddress", "publicIp"], source: `${AWS}/ec2/ec2_eip_association.go (every argument ForceNew; delete ignores InvalidAssociationID.NotFound)` },
    "aws:ec2/natGateway:NatGateway": { paths: ["allocationId", "subnetId", "connectivityType", "privateIp"], source: `${AWS}/ec2/vpc_nat_gateway.go` },
    "aws:ec2/internetGateway:InternetGateway": { paths: [], source: `${AWS}/ec2/vpc_internet_gateway.go (vpc_id updates by attach/detach)` },
    "aws:ec2/route:Route": { paths: ["routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"], source: `${AWS}/ec2/vpc_route.go` },
    "aws:ec2/routeTable:RouteTable": { paths: ["vpcId"], source: `${AWS}/ec2/vpc_route_table.go` },
    "aws:ec2/routeTableAssociation:RouteTableAssociation": { paths: ["subnetId", "gatewayId"], source: `${AWS}/ec2/vpc_route_table_association.go` },
    "aws:ec2/vpcEndpoint:VpcEndpoint": { paths: ["serviceName", "vpcId", "vpcEndpointType", "serviceRegion"], source: `${AWS}/ec2/vpc_endpoint.go` },
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": { paths: ["vpcId", "peerVpcId", "peerOwnerId", "peerRegion"], source: `${AWS}/ec2/vpc_peering_connection.go` },
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": { paths: ["vpcPeeringConnectionId"], source: `${AWS}/ec2/vpc_peering_connection_accepter.go` },
    "aws:iam/role:Role": { paths: ["name", "namePrefix", "path"], source: `${AWS}/iam/role.go` },
    "aws:iam/rolePolicy:RolePolicy": { paths: ["name", "namePrefix", "role"], source: `${AWS}/iam/role_policy.go` },
    "aws:iam/instanceProfile:InstanceProfile": { paths: ["name", "namePrefix", "path"], source: `${AWS}/iam/instance_profile.go` },
    "aws:kms/key:Key": { paths: ["customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"], source: `${AWS}/kms/key.go` },
    "aws:kms/alias:Alias": { paths: ["name", "namePrefix"], source: `${AWS}/kms/alias.go` },
    "aws:s3/bucket:Bucket": { paths: ["bucket", "bucketPrefix", "objectLockEnabled", "bucketNamespace"], source: `${AWS}/s3/bucket.go` },
    "aws:s3/bucketVersioning:BucketVersioning": { paths: ["bucket", "expectedBucketOwner", "mfa"], source: `${AWS}/s3/bucket_versioning.go` },
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": { paths: ["bucket", "expectedBucketOwner"], source: `${AWS}/s3/bucket_server_side_encryption_configuration.go` },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": { paths: ["bucket"], source: `${AWS}/s3/bucket_public_access_block.go` },
    "aws:s3/bucketPolicy:BucketPolicy": { paths: ["bucket"], source: `${AWS}/s3/bucket_policy.go` },
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": { paths: ["bucket"], source: `${AWS}/s3/bucket_ownership_controls.go` },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": { paths: ["bucket", "expectedBucketOwner"], source: `${AWS}/s3/bucket_lifecycle_configuration.go` },
    "aws:s3/bucketLogging:BucketLogging": { paths: ["bucket", "expectedBucketOwner"], source: `${AWS}/s3/bucket_logging.go` },
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": { paths: ["bucket"], source: `${AWS}/s3/bucket_replication_configuration.go` },
    "aws:ssm/parameter:Parameter": { paths: ["name"], source: `${AWS}/ssm/parameter.go` },
    "aws:ssm/document:Document": { paths: ["name", "documentType"], source: `${AWS}/ssm/document.go` },
    "aws:ssm/association:Association": { paths: ["instanceId"], source: `${AWS}/ssm/association.go` },
    "aws:route53/record:Record": { paths: ["zoneId", "name", "setIdentifier"], source: `${AWS}/route53/record.go` },
    "aws:route53/healthCheck:HealthCheck": { paths: ["type", "requestInterval", "measureLatency", "referenceName", "routingControlArn"], source: `${AWS}/route53/health_check.go` },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { paths: ["name"], source: `${AWS}/cloudwatch/metric_alarm.go` },
    "aws:sns/topic:Topic": { paths: ["name", "namePrefix", "fifoTopic"], source: `${AWS}/sns/topic.go` },
    "aws:sns/topicSubscription:TopicSubscription": { paths: ["topic", "protocol", "endpoint"], source: `${AWS}/sns/topic_subscription.go` },
    "docker:index/service:Service": { paths: ["name", "auth"], source: `${DOCKER}/resource_docker_service.go` },
    "docker:index/network:Network": { paths: ["*"], source: `${DOCKER}/resource_docker_network.go (no Update: every input ForceNew)` },
    "docker:index/secret:Secret": { paths: ["*"], source: `${DOCKER}/resource_docker_secret.go (no Update)` },
    "docker:index/serviceConfig:ServiceConfig": { paths: ["*"], source: `${DOCKER}/resource_docker_config.go (no Update)` },
    // Size, type, IOPS and throughput are modified in place (ModifyVolume); these are ForceNew.
    "aws:ebs/volume:Volume": { paths: ["availabilityZone", "encrypted", "kmsKeyId", "snapshotId", "outpostArn"], source: `${AWS}/ec2/ebs_volume.go` },
    "aws:ec2/volumeAttachment:VolumeAttachment": { paths: ["deviceName", "instanceId", "volumeId"], source: `${AWS}/ec2/ec2_volume_attachment.go` },
    "docker:index/volume:Volume": { paths: ["*"], source: `${DOCKER}/resource_docker_volume.go (no Update)` },
    "random:index/randomPassword:RandomPassword": { paths: ["*"], source: "terraform-provider-random internal/provider/resource_password.go (RequiresReplace)" },
    "random:index/randomString:RandomString": { paths: ["*"], source: "terraform-provider-random internal/provider/resource_string.go (RequiresReplace)" },
    "random:index/randomId:RandomId": { paths: ["*"], source: "terraform-provider-random internal/provider/resource_id.go (RequiresReplace)" },
};

/** The inputs among `changed` (dotted paths) that force a replacement of a `type`, per the table. */
export function replacingPaths(type: string, changed: readonly string[], head: Record<string, unknown>): string[] {
    const rule = REPLACE_ON_CHANGE[type];
    if (!rule) return [];
    const out = changed.filter((p) => rule.paths.some((r) => r === "*" || p === r || p.startsWith(`${r}.`) || p.startsWith(`${r}[`)));
    // The instance's user data replaces it only when userDataReplaceOnChange is set (CustomizeDiff in ec2_instance.go).
    if (type === "aws:ec2/instance:Instance" && head.userDataReplaceOnChange === true) {
        out.push(...changed.filter((p) => p === "userData" || p === "userDataBase64"));
    }
    return out;
}
