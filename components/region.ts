import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigSecrets } from "../config/load";
import { HaConfig } from "../config/types";
import { PrimaryOutputKey } from "../lib/stackRef";
import { monitoringHosts } from "../lib/swarmDemand";
import { POSTGRES_ROLES_DEFAULTS } from "../renderers/postgresRoles";
import { TraefikTls } from "../renderers/traefik";
import { Backend } from "./backend";
import { CREDENTIAL_OUTPUTS } from "../config/standbyCredentials";
import { CredentialName, Credentials } from "./credentials";
import { CrossRegion } from "./crossRegion";
import { Edge } from "./edge";
import { FenceSync } from "./fenceSync";
import { peerFenceBucket } from "../lib/fenceBuckets";
import { Frontend } from "./frontend";
import { GlobalDns } from "./globalDns";
import { Monitoring } from "./monitoring";
import { Network } from "./network";
import { Postgres } from "./postgres";
import { Redis } from "./redis";
import { SwarmHosts } from "./swarmHosts";
import { SwarmContext } from "./swarmKit";
import { SwarmNetworks } from "./swarmNetworks";
import { WalBucket } from "./walBucket";
import { PATRONI_DEFAULTS } from "../renderers/patroniDcs";

/** Arguments of {@link Region}. */
export interface RegionArgs {
    /** The validated config of this stack. */
    readonly cfg: HaConfig;
    /** Secret config values. */
    readonly secrets: ConfigSecrets;
}

/** Prefix of every Swarm object (services, configs, secrets, networks). */
export const SWARM_PREFIX = "opscenter";

/**
 * One region of Ops-Center HA: the substrate (network, Swarm hosts, WAL bucket), the tiers on the Swarm, and
 * the global ties (Route53 failover record; in the standby, the peering and S3 replication it owns).
 */
export class Region extends pulumi.ComponentResource {
    private readonly outputs: Record<string, pulumi.Input<unknown>>;

    constructor(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Region", name, {}, opts);
        const { cfg, secrets } = args;
        const parent = { parent: this };
        const primary = cfg.role === "primary";
        const tags = { project: "ops-center-ha", stack: cfg.stack, role: cfg.role };
        // Only a standby reads the primary's stack (its source addresses and peering ids). A promoted standby reads
        // nothing there: that stack, and its region, may be unreachable (README "Region promotion").
        const ref = primary ? undefined : new pulumi.StackReference(`${name}-primary`, { name: cfg.primaryStack! }, parent);
        const fromPrimary = (key: PrimaryOutputKey) => ref!.requireOutput(key);

        const wal = new WalBucket(`${name}-wal`, { project: "ops-center-ha", stack: cfg.stack, region: cfg.region, retentionDays: cfg.postgres.backupRetentionDays, tags }, parent);
        // The peer region's WAL bucket, where the region fence record is when the peer was promoted (lib/fenceBuckets.ts).
        const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
        const peerFence = cfg.peerRegion ? { region: cfg.peerRegion, bucket: accountId.apply((a) => peerFenceBucket(cfg, a)!.bucket) } : undefined;
        const existing = cfg.hosts.existingSwarmHost !== undefined;
        const network = existing ? undefined : new Network(`${name}-net`, { vpcCidr: cfg.network.vpcCidr, zones: cfg.network.availabilityZones!, adminCidr: cfg.network.adminCidr, tags }, parent);
        const hosts = new SwarmHosts(
            `${name}-hosts`,
            {
                stack: cfg.stack,
                region: cfg.region,
                hosts: cfg.hosts,
                network: network && {
                    azs: network.azs,
                    publicSubnetIds: network.publicSubnetIds,
                    privateSubnetIds: network.privateSubnetIds,
                    securityGroupIds: network.securityGroupIds,
                    reservedCidrs: [cfg.network.vpcCidr, ...(cfg.network.peerVpcCidr ? [cfg.network.peerVpcCidr] : [])],
                },
                walBucket: { arn: wal.bucketArn, kmsKeyArn: wal.kmsKeyArn },
                restoreSource: cfg.restore && { ...cfg.restore, pgVersion: PATRONI_DEFAULTS.pgVersion },
                peerFenceBucket: peerFence,
                acmeDns01: cfg.edge.tlsMode === "dns01" ? { hostedZoneId: cfg.dns.hostedZoneId, domains: [cfg.dns.domain] } : undefined,
                edgeParameterPrefix: `/ops-center-ha/${cfg.stack}/edge`,
                tags,
            },
            parent,
        );

        const nets = new SwarmNetworks(`${name}-swarm-nets`, { prefix: SWARM_PREFIX, provider: hosts.provider }, parent);
        const swarm: SwarmContext = { provider: hosts.provider, prefix: SWARM_PREFIX, networks: { edge: nets.edge.id, app: nets.app.id, data: nets.data.id } };
        const creds = new Credentials(
            `${name}-credentials`,
            {
                swarm,
                given: cfg.builtAs === "standby" ? requireStandbyCredentials(secrets) : secrets.standbyCredentials,
            },
            parent,
        );

        // The region fence's sync on every data host: the data tier's start gates read what it copies (renderers/fence.ts).
        const fence = new FenceSync(`${name}-fence`, { swarm, own: { region: cfg.region, bucket: wal.bucketName }, peer: peerFence, image: cfg.images.awsCli }, parent);
        const fenceMount = { volume: fence.volume, service: fence.service };

        // On an existing Swarm the operator names the data nodes; their addresses are not known to the program.
        const dataNodes: { hostname: string; privateIp?: pulumi.Output<string> }[] = existing
            ? (cfg.hosts.existingSwarmDataHosts ?? []).map((hostname) => ({ hostname }))
            : hosts.nodes.filter((n) => n.role === "data");
        const postgres = new Postgres(
            `${name}-postgres`,
            {
                swarm,
                role: cfg.role,
                sizeAs: cfg.builtAs,
                region: cfg.region,
                dataHosts: dataNodes.map((n) => n.hostname),
                members: cfg.postgres.members,
                rollLast: cfg.postgres.rollLast,
                etcdMembers: cfg.postgres.etcdMembers,
                timing: cfg.postgres,
                retainBackups: cfg.postgres.backupRetentionDays,
                images: { spilo: cfg.images.spilo, etcd: cfg.images.etcd, haproxy: cfg.images.haproxy },
                walBucket: wal.bucketName,
                walKmsKeyArn: wal.kmsKeyArn,
                standbySource: ref && { primaryHosts: fromPrimary("postgresLeaderAddresses") as pulumi.Output<string[]>, primaryRegion: cfg.peerRegion! },
                secrets: { superuser: creds.secrets.pgSuperuser, replication: creds.secrets.pgReplication, app: creds.secrets.pgApp, monitor: creds.secrets.pgMonitor },
                restore: cfg.restore && { scope: cfg.restore.scope, source: cfg.restore },
                fence: fenceMount,
            },
            parent,
        );
        const redis = new Redis(
            `${name}-redis`,
            {
                swarm,
                role: cfg.role,
                region: cfg.region,
                hosts: dataNodes.map((n) => ({ hostname: n.hostname, privateIp: n.privateIp })),
                replicas: cfg.redis.replicas,
                sentinels: cfg.redis.sentinels,
                quorum: cfg.redis.quorum,
                downAfterMs: cfg.redis.downAfterMs,
                primaryMaster: ref && { host: fromPrimary("redisMasterAddress") as pulumi.Output<string>, port: 6379 },
                images: { redis: cfg.images.redis, exporter: cfg.images.redisExporter, awsCli: cfg.images.awsCli },
                passwordSecret: creds.secrets.redis,
                backupBucket: wal.bucketName,
                backupKmsKeyArn: wal.kmsKeyArn,
                restoreFrom: cfg.restore?.redisRdbKey ? { bucket: cfg.restore.fromBucket, region: cfg.restore.bucketRegion, key: cfg.restore.redisRdbKey } : undefined,
                fence: fenceMount,
            },
            parent,
        );

        const appNodes = existing ? undefined : cfg.hosts.pools.app.count;
        const tls: TraefikTls = cfg.edge.tlsMode === "dns01" ? { mode: "acme-dns01", email: cfg.edge.acmeEmail } : { mode: "certificate-secret", certSecret: "tls_cert", keySecret: "tls_key" };
        new Frontend(`${name}-frontend`, { swarm, image: cfg.frontend.image, replicas: cfg.frontend.replicas, host: cfg.dns.domain, tls, appNodes }, parent);
        new Backend(
            `${name}-backend`,
            {
                swarm,
                replicas: cfg.backend.replicas,
                activeColor: cfg.backend.activeColor,
                activeImage: cfg.backend.image,
                inactiveImage: cfg.backend.inactiveImage,
                host: cfg.dns.domain,
                tls,
                appNodes,
                database: { host: postgres.leaderEndpoint.host, port: postgres.leaderEndpoint.port, name: POSTGRES_ROLES_DEFAULTS.appDatabase, user: POSTGRES_ROLES_DEFAULTS.appRole, passwordSecret: creds.secrets.pgApp },
                redis: { sentinels: redis.sentinelAddresses, masterName: redis.masterName, passwordSecret: creds.secrets.redis, replica: redis.replicaAddress },
            },
            parent,
        );
        new Edge(
            `${name}-edge`,
            {
                swarm,
                region: cfg.region,
                ssmPrefix: `/ops-center-ha/${cfg.stack}`,
                hosts: (hosts.edgeInstances ?? []).map((h) => ({ name: h.hostname, instanceId: h.id, privateIp: h.privateIp })),
                eipAllocationId: hosts.edgeEip?.allocationId,
                traefikImage: cfg.images.traefik,
                socketProxyImage: cfg.images.socketProxy,
                tls,
                certificate: secrets.tlsCertificate && secrets.tlsPrivateKey ? { cert: secrets.tlsCertificate, key: secrets.tlsPrivateKey } : undefined,
                keepalivedPriority: cfg.edge.keepalivedPriority,
                routerId: cfg.edge.routerId,
            },
            parent,
        );
        const edgeAddress = hosts.edgeEip?.publicIp;
        new Monitoring(
            `${name}-monitoring`,
            {
                swarm,
                role: cfg.role,
                region: cfg.region,
                host: cfg.dns.domain,
                edgeAddress: edgeAddress ?? cfg.dns.domain,
                services: {
                    traefik: [`${SWARM_PREFIX}-traefik`],
                    backend: [`${SWARM_PREFIX}-backend-blue`, `${SWARM_PREFIX}-backend-green`],
                    patroni: postgres.memberServiceNames,
                    etcd: postgres.etcdServiceNames,
                    redis: redis.nodeServiceNames,
                    sentinels: redis.sentinelServiceNames,
                },
                postgres: { host: postgres.leaderEndpoint.host, port: postgres.leaderEndpoint.port, user: POSTGRES_ROLES_DEFAULTS.monitorRole, passwordSecret: creds.secrets.pgMonitor },
                webhookUrl: secrets.alertWebhookUrl!,
                pinnedHosts: monitoringHosts(existing ? [] : hosts.nodes.filter((n) => n.role === "app").map((n) => n.hostname)),
                images: { prometheus: cfg.images.prometheus, alertmanager: cfg.images.alertmanager, postgresExporter: cfg.images.postgresExporter, blackboxExporter: cfg.images.blackboxExporter, nodeExporter: cfg.images.nodeExporter },
            },
            parent,
        );

        const usEast1 = new aws.Provider(`${name}-us-east-1`, { region: "us-east-1" }, parent);
        const dns = edgeAddress
            ? new GlobalDns(
                  `${name}-dns`,
                  {
                      // The region built as primary holds PRIMARY, the one built as a standby SECONDARY, whatever
                      // the role: promotion never makes a second PRIMARY (README "Region promotion").
                      position: cfg.builtAs,
                      region: cfg.region,
                      domain: cfg.dns.domain,
                      hostedZoneId: cfg.dns.hostedZoneId,
                      ttl: cfg.dns.ttl,
                      healthCheckInterval: cfg.dns.healthCheckInterval,
                      healthCheckFailureThreshold: cfg.dns.healthCheckFailureThreshold,
                      edgePublicIp: edgeAddress,
                      usEast1Provider: usEast1,
                      alarmEmail: cfg.dns.alarmEmail,
                      cloudflare: cfg.dns.cloudflare,
                      tags,
                  },
                  parent,
              )
            : undefined;

        if (ref && network) {
            // No STS call there: on promotion this provider only drops (retains) what it created, with the region down.
            const primaryProvider = new aws.Provider(`${name}-primary-region`, { region: cfg.peerRegion as aws.Region, skipCredentialsValidation: true }, parent);
            new CrossRegion(
                `${name}-cross-region`,
                {
                    primary: {
                        region: cfg.peerRegion!,
                        vpcId: fromPrimary("vpcId") as pulumi.Output<string>,
                        vpcCidr: cfg.network.peerVpcCidr!,
                        privateRouteTableIds: fromPrimary("privateRouteTableIds") as pulumi.Output<string[]>,
                        routeTableCount: cfg.network.azCount,
                        dataSecurityGroupId: fromPrimary("dataSecurityGroupId") as pulumi.Output<string>,
                        bucketName: fromPrimary("walBucketName") as pulumi.Output<string>,
                        bucketArn: fromPrimary("walBucketArn") as pulumi.Output<string>,
                        kmsKeyArn: fromPrimary("walKmsKeyArn") as pulumi.Output<string>,
                    },
                    standby: {
                        region: cfg.region,
                        vpcId: network.vpcId,
                        vpcCidr: cfg.network.vpcCidr,
                        privateRouteTableIds: pulumi.all(network.privateRouteTableIds),
                        routeTableCount: network.privateRouteTableIds.length,
                        dataSecurityGroupId: network.securityGroupIds.data,
                        bucketName: wal.bucketName,
                        bucketArn: wal.bucketArn,
                        kmsKeyArn: wal.kmsKeyArn,
                    },
                    primaryProvider,
                    tags,
                },
                parent,
            );
        }

        const dataIps = dataNodes.map((n) => n.privateIp).filter((ip): ip is pulumi.Output<string> => ip !== undefined);
        this.outputs = {
            region: cfg.region,
            role: cfg.role,
            vpcId: network?.vpcId,
            vpcCidr: cfg.network.vpcCidr,
            privateRouteTableIds: network && pulumi.all(network.privateRouteTableIds),
            dataSecurityGroupId: network?.securityGroupIds.data,
            walBucketName: wal.bucketName,
            walBucketArn: wal.bucketArn,
            walKmsKeyArn: wal.kmsKeyArn,
            // Where the region fence records are (npm run promote reads and writes them): this region's WAL bucket and the peer's.
            fenceBuckets: pulumi.output({ own: { region: cfg.region, bucket: wal.bucketName }, peer: peerFence }),
            // The Postgres cluster's Patroni scope (part of its WAL-G path): a later restore's restore.fromScope.
            postgresScope: postgres.scope,
            // The HAProxy leader port is published through the routing mesh on every node: the standby streams through
            // whichever of the data hosts answers first (libpq multi-host), so no single host carries the stream.
            postgresLeaderAddresses: dataIps.length > 0 ? pulumi.all(dataIps) : undefined,
            redisMasterAddress: redis.masterAddress,
            redisMasterName: redis.masterName,
            edgePublicIp: edgeAddress,
            healthCheckId: dns?.healthCheckId,
            dockerHost: hosts.dockerHost,
            activeBackendColor: cfg.backend.activeColor,
            // Secret outputs: the standby region authenticates to this region's Postgres and Redis with them.
            ...Object.fromEntries(Object.entries(CREDENTIAL_OUTPUTS).map(([k, out]) => [out, pulumi.secret(creds.values[k as CredentialName])])),
        };
        this.registerOutputs(this.outputs);
    }

    /** The stack outputs (index.ts exports them). */
    stackOutputs(): Record<string, pulumi.Input<unknown>> {
        return this.outputs;
    }
}

/** The passwords of a region built as a standby (validate.ts requires them; this names the key if they are missing). */
function requireStandbyCredentials(secrets: ConfigSecrets): Record<CredentialName, pulumi.Output<string>> {
    if (!secrets.standbyCredentials) throw new Error("ops-center-ha:standbyCredentials is required when primaryStack is set: npm run promote -- copy-credentials <stack>");
    return secrets.standbyCredentials;
}
