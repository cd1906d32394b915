/**
 * The region's Docker Swarm hosts and the Docker provider that talks to them.
 *
 * - Pools by role (edge/app/data), spread round robin over the zones (lib/placement): edge hosts in the public
 *   subnets (the edge Elastic IP is the VIP), app and data hosts in the private subnets. App hosts 0..2 are the
 *   3 managers, one per zone. cloud-init (renderers/cloudInit.ts) installs Docker and forms the Swarm through
 *   SSM Parameter Store; no secret is in the user data.
 * - IMDSv2 only. Hop limit 2 only where a container needs the instance role: data hosts (WAL-G in Spilo, the
 *   AWS CLI container of the Redis RDB copy) and edge hosts when Traefik does ACME DNS-01 with Route53; 1 elsewhere
 *   (host processes such as the bootstrap and keepalived's notify script need just 1 hop).
 * - One IAM role per host role, least privilege: Swarm parameters under `/ops-center-ha/<stack>/swarm/` only
 *   (workers read just the worker token and manager address, and write just their own `nodes/<role>-*` entry),
 *   KMS use of the AWS-managed SSM key only through SSM and only for those parameters (encryption context; the
 *   aws/ssm key policy already admits account principals via SSM, so `ssm:GetParameter` is the real gate),
 *   the WAL bucket and its key for data hosts, and for edge hosts `ec2:AssociateAddress` on the edge EIP and this
 *   stack's edge instances (by tag) plus read access to the edge tier's keepalived files.
 * - SSM Agent (edge hosts always, others with `ssmSessionManager`): the agent's own API calls are granted inline
 *   instead of AmazonSSMManagedInstanceCore, which also grants `ssm:GetParameter(s)` on `*`, i.e. every
 *   parameter in the account, including the Swarm manager token.
 * - The edge EIP is associated to edge-0 by edge-0 itself at first boot, only if unassociated. It is not a
 *   Pulumi `EipAssociation`: keepalived moves the EIP at failover, and a refresh would then see that association
 *   as deleted and a later `up` would move the VIP back, possibly onto a dead host.
 * - Replacement, one host per update (README "Replacing a host"): every host is `protect`ed but the one named in
 *   `rollHost` (the engine refuses to replace a protected resource), so no update replaces more than one host, never
 *   three managers or every data copy at once. Running hosts ignore user data and key pair changes (`ignoreChanges`):
 *   an edit of the cloud-init or a new `sshKeyName` would otherwise stop and start, or replace, every host. And
 *   cloud-init runs its first-boot modules once per instance id, so a stop/start with new user data would not even
 *   apply it. The rollHost takes the current user data (`userDataReplaceOnChange`) and key pair.
 * - AMI (README "Rolling the AMI"): explicit for a host listed in `hostAmis` (never ignored: a new id replaces it
 *   with that AMI, also under `pulumi up --replace`); an unlisted host keeps the AMI `amiSsmParameter` named at its
 *   creation (`ignoreChanges: ["ami"]`: the engine copies an ignored input back from the old state, pulumi/pulumi
 *   step_generator.go `processIgnoreChanges`, so such a host never patches by replacement alone).
 * - Data hosts keep every Docker volume on their own EBS volume (`dataVolumeGb`; protected, retained on delete),
 *   attached with `deleteBeforeReplace` and `stopInstanceBeforeDetaching`, mounted by renderers/dataVolume.ts before
 *   the host joins the Swarm: a replacement gets the same volume back.
 *
 * Docker provider and its readiness gate: `host` is `ssh://<sshUser>@<manager private IP>`, reached through the edge
 * EIP as an SSH jump (or directly over a VPN: `dockerSshVia: "private"`). The manager is the first of app-0..2 with a
 * live heartbeat (`<prefix>/managers/<hostname>`, written by each manager at join and every labelling pass, naming
 * the instance this stack runs under that hostname and at most 5 minutes old: lib/swarmManagers.ts), so a dead app-0
 * does not cut the program off from the Swarm. A stack deployed before the heartbeats (its managers run the old
 * scripts and publish only `<prefix>/manager-instance-id`) gets the manager that legacy parameter names, at once and
 * with a warning to roll the managers. On a real update the host resolves only once such a heartbeat exists
 * (bounded: attempts x interval, then the update fails with a pointer to the logs); a preview looks once and falls
 * back to app-0. Host keys: `accept-new` trusts a host's first key and refuses a changed one; after the EIP moved to
 * the other edge host, add that host's key to known_hosts (the EIP then has two keys).
 *
 * Existing Swarm switch: with `hosts.existingSwarmHost`, no EC2 host, IAM role or EIP is created; the provider
 * talks to that host and `nodes` is empty.
 */
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { peerFenceReadStatements } from "../lib/fenceBuckets";
import { RestoreAccessInput, restoreReadStatements } from "../lib/restoreAccess";
import type { HaConfig, HostRole } from "../config/types";
import { planNodes } from "../lib/placement";
import { chooseManager, legacyNotUsableReason, notLiveReason, PlannedManager } from "../lib/swarmManagers";
import { renderCloudInit, swarmSsmPrefix } from "../renderers/cloudInit";
import { dockerSshPath } from "../lib/sshPath";

/** Tag that marks this stack's edge instances; the edge role may associate the EIP only to instances carrying it. */
export const EDGE_VIP_TAG = "opscenter-edge-vip";
/** Default readiness gate: 60 x 10 s. */
export const READINESS_DEFAULTS = { attempts: 60, intervalSeconds: 10 } as const;

export interface SwarmHostsArgs {
    /** Pulumi stack name (SSM prefix, tags). */
    readonly stack: string;
    /** AWS region of the hosts. */
    readonly region: string;
    /** Host settings of the validated config (pools, AMI parameter, SSH user and key, existing Swarm). */
    readonly hosts: HaConfig["hosts"];
    /** Network of the region; required unless `hosts.existingSwarmHost` is set. */
    readonly network?: {
        /** Zone names, index = zone index. */
        readonly azs: pulumi.Input<string[]>;
        /** Public subnet per zone (edge hosts). */
        readonly publicSubnetIds: pulumi.Input<string>[];
        /** Private subnet per zone (app and data hosts). */
        readonly privateSubnetIds: pulumi.Input<string>[];
        /** Security group per host role. */
        readonly securityGroupIds: Readonly<Record<HostRole, pulumi.Input<string>>>;
        /** CIDRs the Swarm overlay address pool must avoid: this VPC and the peer VPC. */
        readonly reservedCidrs: readonly string[];
    };
    /** This region's WAL bucket (data hosts read and write it); required unless `existingSwarmHost`. */
    readonly walBucket?: {
        /** Bucket ARN. */
        readonly arn: pulumi.Input<string>;
        /** ARN of the bucket's KMS key. */
        readonly kmsKeyArn: pulumi.Input<string>;
    };
    /** Point-in-time restore: the data hosts also read the source bucket's backups and decrypt with its key (lib/restoreAccess.ts). */
    readonly restoreSource?: RestoreAccessInput;
    /** The peer region's WAL bucket: the data hosts' fence sync reads its region fence record (lib/fenceBuckets.ts). */
    readonly peerFenceBucket?: { readonly region: string; readonly bucket: pulumi.Input<string> };
    /** Traefik ACME DNS-01 through Route53 from the edge hosts: the zone and the names certified. */
    readonly acmeDns01?: {
        /** Route53 hosted zone id. */
        readonly hostedZoneId: pulumi.Input<string>;
        /** Names on the certificate; only their `_acme-challenge.` TXT records may be changed. */
        readonly domains: readonly string[];
    };
    /**
     * How the Docker provider reaches app-0 over SSH: an SSM Session Manager session to its instance id (default,
     * lib/sshPath.ts), through the edge EIP as a jump, or directly (VPN). The last two check host keys against the
     * deployer's own known_hosts (StrictHostKeyChecking yes), never `accept-new`.
     */
    readonly dockerSshVia?: "ssm" | "edgeJump" | "private";
    /**
     * Also run the SSM Agent on app and data hosts, with Session Manager shells (default false). Edge hosts always
     * run it: the edge tier applies keepalived's files through a State Manager association.
     */
    readonly ssmSessionManager?: boolean;
    /** SSM folder of the edge tier's keepalived files, read by the edge hosts (default `/ops-center-ha/<stack>/edge`). */
    readonly edgeParameterPrefix?: string;
    /** Readiness gate bounds, or "skip" (mock-engine runs, where no host publishes anything). */
    readonly readiness?: { readonly attempts: number; readonly intervalSeconds: number } | "skip";
    /** Tags added to every resource. */
    readonly tags?: Record<string, string>;
}

/** One Swarm host. */
export interface SwarmNode {
    /** Swarm node hostname (`<role>-<index>`), usable in `node.hostname==` constraints. */
    readonly hostname: string;
    /** Host role; also the `role` node label. */
    readonly role: HostRole;
    /** Swarm manager (app-0..2). */
    readonly manager: boolean;
    /** Availability zone; also the `zone` node label. */
    readonly zone: pulumi.Output<string>;
    /** Private IPv4 address. */
    readonly privateIp: pulumi.Output<string>;
}

export class SwarmHosts extends pulumi.ComponentResource {
    readonly provider: docker.Provider;
    /** The Docker host string the provider uses (gated, see the file comment). */
    readonly dockerHost: pulumi.Output<string>;
    readonly nodes: SwarmNode[];
    readonly edgeEip?: { readonly allocationId: pulumi.Output<string>; readonly publicIp: pulumi.Output<string> };
    readonly edgeInstances?: { readonly hostname: string; readonly id: pulumi.Output<string>; readonly privateIp: pulumi.Output<string> }[];
    readonly instanceRoleNames?: Readonly<Record<HostRole, pulumi.Output<string>>>;

    constructor(name: string, args: SwarmHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:SwarmHosts", name, {}, opts);
        const parent = { parent: this };
        const existing = args.hosts.existingSwarmHost;
        if (existing !== undefined) {
            this.nodes = [];
            this.dockerHost = pulumi.output(existing);
            // An existing Swarm's manager key must already be in the deployer's known_hosts: never trust on first use.
            this.provider = new docker.Provider(`${name}-docker`, {
                host: existing,
                sshOpts: existing.startsWith("ssh://") ? ["-o", "StrictHostKeyChecking=yes", "-o", "ControlMaster=auto", "-o", "ControlPath=~/.ssh/cm-ops-center-ha-%C", "-o", "ControlPersist=10m"] : undefined,
            }, parent);
            this.registerOutputs({ dockerHost: this.dockerHost, nodes: [] });
            return;
        }
        const net = args.network;
        const wal = args.walBucket;
        if (!net || !wal) throw new Error("SwarmHosts: network and walBucket are required unless hosts.existingSwarmHost is set");

        const prefix = swarmSsmPrefix(args.stack);
        const edgePrefix = args.edgeParameterPrefix ?? `/ops-center-ha/${args.stack}/edge`;
        const via = args.dockerSshVia ?? "ssm";
        // SSM sessions to the managers need the agent and the ssmmessages channel on the app hosts.
        const sessionsOn: Record<HostRole, boolean> = { edge: args.ssmSessionManager ?? false, app: (args.ssmSessionManager ?? false) || via === "ssm", data: args.ssmSessionManager ?? false };
        const agentOn: Record<HostRole, boolean> = { edge: true, app: sessionsOn.app, data: sessionsOn.data };
        const user = args.hosts.sshUser;
        const tags = (n: string, extra: Record<string, string> = {}) => ({ ...args.tags, ...extra, Name: n });
        const identity = aws.getCallerIdentityOutput({}, parent);
        const partition = aws.getPartitionOutput({}, parent);
        const ctx = pulumi.all([identity.accountId, partition.partition]);
        const paramArn = (suffix: string, folder = prefix) =>
            ctx.apply(([acct, part]) => `arn:${part}:ssm:${args.region}:${acct}:parameter${folder}/${suffix}`);

        // The VIP's address is what DNS points at: a new one would need the failover record, the health check and
        // every client to follow. Protected (README "Tearing down").
        const eip = new aws.ec2.Eip(`${name}-edge-vip`, { domain: "vpc", tags: tags(`${name}-edge-vip`, { role: "edge-vip" }) }, { parent: this, protect: true });
        this.edgeEip = { allocationId: eip.allocationId, publicIp: eip.publicIp };

        // IAM: one role and instance profile per host role.
        const roles = {} as Record<HostRole, aws.iam.Role>;
        const profiles = {} as Record<HostRole, aws.iam.InstanceProfile>;
        const policies = {} as Record<HostRole, pulumi.Resource[]>;
        const assume = JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        });
        const doc = (statements: pulumi.Input<object>[]) =>
            pulumi.output(statements).apply((s) => JSON.stringify({ Version: "2012-10-17", Statement: s }));
        const ssmKms = (actions: string[], params: pulumi.Output<string>[]) => ({
            Sid: "SwarmSecureStrings",
            Effect: "Allow",
            Action: actions,
            Resource: ctx.apply(([acct, part]) => `arn:${part}:kms:${args.region}:${acct}:key/*`),
            Condition: {
                StringEquals: { "kms:ViaService": `ssm.${args.region}.amazonaws.com` },
                StringLike: { "kms:EncryptionContext:PARAMETER_ARN": params },
            },
        });
        for (const role of ["edge", "app", "data"] as const) {
            roles[role] = new aws.iam.Role(`${name}-${role}`, {
                assumeRolePolicy: assume,
                description: `ops-center-ha ${args.stack} ${role} hosts`,
                tags: tags(`${name}-${role}`),
            }, parent);
            profiles[role] = new aws.iam.InstanceProfile(`${name}-${role}`, { role: roles[role].name, tags: tags(`${name}-${role}`) }, parent);
            const statements: pulumi.Input<object>[] =
                role === "app"
                    ? [
                          // Managers: publish tokens/address/instance id, read tokens, list node label requests.
                          { Sid: "SwarmRead", Effect: "Allow", Action: "ssm:GetParameter",
                            Resource: ["manager-token", "worker-token", "manager-addr", "initialised"].map((p) => paramArn(p)) },
                          { Sid: "SwarmWrite", Effect: "Allow", Action: "ssm:PutParameter",
                            Resource: ["manager-token", "worker-token", "manager-addr", "manager-instance-id", "initialised", "managers/app-*", "nodes/app-*", "hostkeys/i-*"].map((p) => paramArn(p)) },
                          { Sid: "SwarmNodeLabels", Effect: "Allow", Action: "ssm:GetParametersByPath",
                            Resource: ["nodes", "managers"].map((p) => paramArn(p)) },
                          ssmKms(["kms:Encrypt", "kms:Decrypt"], [paramArn("manager-token"), paramArn("worker-token")]),
                      ]
                    : [
                          { Sid: "SwarmRead", Effect: "Allow", Action: "ssm:GetParameter", Resource: ["worker-token", "manager-addr"].map((p) => paramArn(p)) },
                          { Sid: "SwarmManagers", Effect: "Allow", Action: "ssm:GetParametersByPath", Resource: paramArn("managers") },
                          { Sid: "SwarmWrite", Effect: "Allow", Action: "ssm:PutParameter", Resource: [paramArn(`nodes/${role}-*`), paramArn("hostkeys/i-*")] },
                          ssmKms(["kms:Decrypt"], [paramArn("worker-token"), ...(role === "edge" ? [paramArn("*", edgePrefix)] : [])]),
                      ];
            if (agentOn[role]) {
                statements.push({
                    Sid: "SsmAgent",
                    Effect: "Allow",
                    Action: [
                        "ssm:UpdateInstanceInformation", "ssm:ListAssociations", "ssm:ListInstanceAssociations", "ssm:DescribeAssociation",
                        "ssm:GetDocument", "ssm:DescribeDocument", "ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus",
                        "ssm:PutComplianceItems", "ssm:PutInventory",
                        "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
                        "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
                        ...(sessionsOn[role]
                            ? ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
                            : []),
                    ],
                    Resource: "*",
                });
            }
            if (role === "data") {
                statements.push(
                    { Sid: "WalBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], Resource: wal.arn },
                    { Sid: "WalObjects", Effect: "Allow",
                      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                      Resource: pulumi.interpolate`${wal.arn}/*` },
                    { Sid: "WalKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: wal.kmsKeyArn,
                      Condition: { StringEquals: { "kms:ViaService": `s3.${args.region}.amazonaws.com` } } },
                );
                const peer = args.peerFenceBucket;
                if (peer) {
                    const read = pulumi.all([peer.bucket, partition.partition]).apply(([bucket, part]) => peerFenceReadStatements({ region: peer.region, bucket }, part));
                    statements.push(...[0, 1, 2].map((i) => read.apply((st) => st[i])));
                }
                const src = args.restoreSource;
                if (src) statements.push(...restoreReadStatements(src, "aws").map((_, i) => partition.partition.apply((part) => restoreReadStatements(src, part)[i])));
            }
            if (role === "edge") {
                statements.push(
                    { Sid: "EdgeFiles", Effect: "Allow", Action: "ssm:GetParameter", Resource: paramArn("*", edgePrefix) },
                    { Sid: "EdgeVip", Effect: "Allow", Action: "ec2:AssociateAddress",
                      Resource: pulumi.all([ctx, eip.allocationId]).apply(([[acct, part], alloc]) => `arn:${part}:ec2:${args.region}:${acct}:elastic-ip/${alloc}`) },
                    { Sid: "EdgeVipInstances", Effect: "Allow", Action: "ec2:AssociateAddress",
                      Resource: ctx.apply(([acct, part]) => `arn:${part}:ec2:${args.region}:${acct}:instance/*`),
                      Condition: { StringEquals: { [`aws:ResourceTag/${EDGE_VIP_TAG}`]: args.stack } } },
                    // The MASTER's EIP re-check (renderers/eipRecheck.ts) reads where the EIP is; Describe* takes no resource.
                    { Sid: "EdgeVipRead", Effect: "Allow", Action: "ec2:DescribeAddresses", Resource: "*" },
                );
                if (args.acmeDns01) {
                    const acme = args.acmeDns01;
                    statements.push(
                        { Sid: "AcmeLookup", Effect: "Allow", Action: ["route53:GetChange", "route53:ListHostedZonesByName"], Resource: "*" },
                        { Sid: "AcmeRecords", Effect: "Allow", Action: "route53:ListResourceRecordSets",
                          Resource: pulumi.interpolate`arn:${partition.partition}:route53:::hostedzone/${acme.hostedZoneId}` },
                        { Sid: "AcmeChallenge", Effect: "Allow", Action: "route53:ChangeResourceRecordSets",
                          Resource: pulumi.interpolate`arn:${partition.partition}:route53:::hostedzone/${acme.hostedZoneId}`,
                          Condition: { "ForAllValues:StringEquals": {
                              "route53:ChangeResourceRecordSetsNormalizedRecordNames": acme.domains.map((d) => `_acme-challenge.${d}`),
                              "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] } } },
                    );
                }
            }
            policies[role] = [new aws.iam.RolePolicy(`${name}-${role}`, { role: roles[role].id, policy: doc(statements) }, parent)];
        }
        this.instanceRoleNames = { edge: roles.edge.name, app: roles.app.name, data: roles.data.name };

        // Hosts.
        const ami = aws.ssm.getParameterOutput({ name: args.hosts.amiSsmParameter }, parent).value;
        const azs = pulumi.output(net.azs);
        const zoneCount = net.privateSubnetIds.length;
        if (net.publicSubnetIds.length !== zoneCount) throw new Error("SwarmHosts: one public and one private subnet per zone are required");
        const hopLimit: Record<HostRole, number> = { edge: args.acmeDns01 ? 2 : 1, app: 1, data: 2 };
        const instances = planNodes(args.hosts.pools, zoneCount).map((node) => {
            const zone = azs.apply((a) => a[node.zoneIndex]);
            const firstEdge = node.role === "edge" && node.index === 0;
            // Data hosts: every Docker volume lives on a separate EBS volume that outlives the host (protected, kept
            // on delete), in the host's zone (zones never move: components/network.ts), re-attached to its replacement.
            const dataVolume = node.role === "data"
                ? new aws.ebs.Volume(`${name}-${node.hostname}-data`, {
                      availabilityZone: zone,
                      size: args.hosts.dataVolumeGb,
                      type: "gp3",
                      encrypted: true,
                      tags: tags(`${name}-${node.hostname}-data`, { role: "data-volume", host: node.hostname }),
                  }, { parent: this, protect: true, retainOnDelete: true })
                : undefined;
            const userData = pulumi.all([zone, eip.allocationId, dataVolume?.id]).apply(([z, alloc, volumeId]) =>
                renderCloudInit({
                    hostname: node.hostname,
                    role: node.role,
                    zone: z,
                    join: node.join,
                    region: args.region,
                    ssmPrefix: prefix,
                    sshUser: user,
                    reservedCidrs: net.reservedCidrs,
                    edgeEipAllocationId: firstEdge ? alloc : undefined,
                    ssmAgent: agentOn[node.role],
                    dataVolumeId: volumeId,
                }));
            const rolling = args.hosts.rollHost === node.hostname;
            // The AMI: explicit for a host listed in hostAmis (never ignored: a new id replaces the host with it, also
            // under `pulumi up --replace`); otherwise the one amiSsmParameter named at creation, kept (ignored).
            const pinnedAmi = args.hosts.hostAmis[node.hostname];
            const ignored = rolling ? [] : ["userData", "keyName", ...(pinnedAmi ? [] : ["ami"])];
            const instance = new aws.ec2.Instance(`${name}-${node.hostname}`, {
                ami: pinnedAmi ?? ami,
                instanceType: args.hosts.pools[node.role].instanceType,
                subnetId: (node.role === "edge" ? net.publicSubnetIds : net.privateSubnetIds)[node.zoneIndex],
                vpcSecurityGroupIds: [net.securityGroupIds[node.role]],
                associatePublicIpAddress: node.role === "edge",
                iamInstanceProfile: profiles[node.role].name,
                keyName: args.hosts.sshKeyName,
                userData,
                userDataReplaceOnChange: rolling,
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: hopLimit[node.role] },
                rootBlockDevice: { volumeType: "gp3", volumeSize: args.hosts.rootVolumeGb, encrypted: true, deleteOnTermination: true },
                tags: tags(`${name}-${node.hostname}`, {
                    role: node.role,
                    swarm: node.join === "worker" ? "worker" : "manager",
                    ...(node.role === "edge" ? { [EDGE_VIP_TAG]: args.stack } : {}),
                }),
                volumeTags: tags(`${name}-${node.hostname}`),
            }, {
                parent: this,
                ignoreChanges: ignored,
                // Protected: the engine refuses to replace or delete it. Only the rollHost may be replaced, so no
                // update replaces more than one host (README "Replacing a host").
                protect: !rolling,
                dependsOn: policies[node.role],
            });
            if (dataVolume) {
                // AWS attaches a volume to one instance at a time: on a replacement the old attachment goes first
                // (deleteBeforeReplace), stopping the old instance so Postgres, etcd and Redis shut down cleanly.
                new aws.ec2.VolumeAttachment(`${name}-${node.hostname}-data`, {
                    deviceName: "/dev/sdf",
                    volumeId: dataVolume.id,
                    instanceId: instance.id,
                    stopInstanceBeforeDetaching: true,
                }, { parent: this, deleteBeforeReplace: true });
            }
            return { node, zone, instance };
        });

        this.nodes = instances.map(({ node, zone, instance }) => ({
            hostname: node.hostname,
            role: node.role,
            manager: node.join !== "worker",
            zone,
            privateIp: instance.privateIp,
        }));
        this.edgeInstances = instances
            .filter(({ node }) => node.role === "edge")
            .map(({ node, instance }) => ({ hostname: node.hostname, id: instance.id, privateIp: instance.privateIp }));

        // Any live manager serves the Swarm API: the first one (app-0, app-1, app-2) whose heartbeat is fresh and
        // names the instance this stack runs under that hostname, or, on a stack deployed before the heartbeats, the
        // one the legacy manager-instance-id names (lib/swarmManagers.ts).
        const managers = instances
            .filter(({ node }) => node.join !== "worker")
            .map(({ node, instance }) => pulumi.all([instance.id, instance.privateIp]).apply(([instanceId, privateIp]): PlannedManager => ({ hostname: node.hostname, instanceId, privateIp })));
        const readiness = args.readiness ?? READINESS_DEFAULTS;
        const chosen = pulumi.all(managers).apply(async (ms) => {
            if (readiness === "skip") return ms[0];
            // A preview looks once and falls back to app-0; an update waits (bounded) for a live manager.
            const preview = pulumi.runtime.isDryRun();
            const live = await waitForLiveManager(prefix, ms, preview ? { attempts: 1, intervalSeconds: 0 } : readiness, this, !preview);
            return live ?? ms[0];
        });
        const sshPath = (m: PlannedManager) => dockerSshPath({ user, instanceId: m.instanceId, region: args.region, hostKeyParameterPrefix: `${prefix}/hostkeys` });
        this.dockerHost = chosen.apply((m) => (via === "ssm" ? sshPath(m).host : `ssh://${user}@${m.privateIp}`));
        // Strict host keys on every path (no accept-new: one EIP is served by two edge hosts in turn).
        const strict = ["-o", "StrictHostKeyChecking=yes", "-o", "ControlMaster=auto", "-o", "ControlPath=~/.ssh/cm-ops-center-ha-%C", "-o", "ControlPersist=10m"];
        const sshOpts = via === "ssm"
            ? chosen.apply((m) => sshPath(m).sshOpts)
            : via === "private"
              ? pulumi.output(strict)
              : eip.publicIp.apply((vip) => [...strict, "-o", `ProxyCommand=ssh -o StrictHostKeyChecking=yes -W %h:%p ${user}@${vip}`]);
        this.provider = new docker.Provider(`${name}-docker`, { host: this.dockerHost, sshOpts }, parent);

        this.registerOutputs({
            dockerHost: this.dockerHost,
            nodes: this.nodes.map((n) => ({ hostname: n.hostname, role: n.role, manager: n.manager, zone: n.zone, privateIp: n.privateIp })),
            edgeEip: this.edgeEip,
            edgeInstances: this.edgeInstances,
            instanceRoleNames: this.instanceRoleNames,
        });
    }
}

/**
 * Polls every manager's heartbeat `<prefix>/managers/<hostname>` until one is live (bounded) and returns it, so the
 * Docker provider is used only once a manager of this stack serves the Swarm. When none is live, a stack deployed
 * before the heartbeats is recognised by the legacy `<prefix>/manager-instance-id` naming a manager that has no
 * heartbeat entry: that manager is used at once, with a warning (lib/swarmManagers.ts `chooseManager`). Throws at
 * the bound when `required`.
 */
async function waitForLiveManager(
    prefix: string,
    managers: PlannedManager[],
    bounds: { readonly attempts: number; readonly intervalSeconds: number },
    parent: pulumi.Resource,
    required: boolean,
): Promise<PlannedManager | undefined> {
    const read = async (name: string) => {
        try {
            return (await aws.ssm.getParameter({ name: `${prefix}/${name}` }, { parent })).value;
        } catch {
            return undefined;
        }
    };
    let why = "";
    for (let i = 1; i <= bounds.attempts; i++) {
        const heartbeats: Record<string, string | undefined> = {};
        for (const m of managers) heartbeats[m.hostname] = await read(`managers/${m.hostname}`);
        const now = Math.floor(Date.now() / 1000);
        // The legacy parameter is read only when no heartbeat is live (the upgrade case), not on every update.
        const noneLive = chooseManager(managers, heartbeats, undefined, now) === undefined;
        const legacy = noneLive ? await read("manager-instance-id") : undefined;
        const chosen = chooseManager(managers, heartbeats, legacy, now);
        if (chosen?.source === "legacy") {
            pulumi.log.warn(
                `no Swarm manager publishes a heartbeat yet under ${prefix}/managers/ (a stack deployed before the per-manager heartbeats): ` +
                    `using ${chosen.manager.hostname} (${chosen.manager.instanceId}), named by the legacy ${prefix}/manager-instance-id. ` +
                    "Its scripts are the old ones (user data changes are ignored on running hosts): roll each manager in turn " +
                    "(pulumi config set rollHost app-N && pulumi up) so they publish heartbeats and a dead app-0 no longer blocks the provider",
                parent,
            );
        }
        if (chosen) return chosen.manager;
        why = managers.map((m) => `${m.hostname}: ${notLiveReason(m, heartbeats[m.hostname], now)}`).join("; ") + `; ${legacyNotUsableReason(managers, legacy)}`;
        if (i % 6 === 1) pulumi.log.info(`waiting for a live Swarm manager (${i}/${bounds.attempts}): ${why}`, parent);
        if (i < bounds.attempts) await new Promise((r) => setTimeout(r, bounds.intervalSeconds * 1000));
    }
    if (!required) return undefined;
    throw new Error(
        `no Swarm manager published a live heartbeat under ${prefix}/managers/ within ${bounds.attempts * bounds.intervalSeconds} s (${why}); ` +
            "on the managers see journalctl -u ops-swarm-bootstrap -u ops-swarm-label and /var/log/cloud-init-output.log",
    );
}
