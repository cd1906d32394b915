import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Role } from "../config/types";
import { FENCE_DEFAULTS } from "../renderers/fence";
import { redisRestoreMarker, REDIS_RESTORE_DEFAULTS, renderRedisRestoreScript } from "../renderers/redisRestore";
import { REDIS_DEFAULTS, renderRdbBackupScript, renderRedisConf, renderRedisStart, renderSentinelConf, renderSentinelStart, validateSentinelTopology } from "../renderers/redis";
import { renderSecretEnvStart } from "../renderers/secretEnv";
import { REDIS_EXPORTER_USER, REDIS_USER } from "../lib/images";
import { swarmResources, TIER_SIZES } from "../lib/sizing";
import { healthcheck, memberRolling, memoryBytes, placeOn, statelessRollback, statelessUpdate } from "../lib/swarmSpec";
import { mountConfig, mountSecret, swarmConfig, SwarmContext, attachNetwork } from "./swarmKit";

/** The `redis` user of the official image (lib/images.ts): the nodes and sentinels run as it. */
const REDIS_UID = String(REDIS_USER.uid);

/** A data host Redis can be pinned to and announce. */
export interface RedisHost {
    readonly hostname: string;
    /**
     * The address Redis and Sentinel announce, with host-mode ports, so that the other region reaches them over
     * the peering. Unknown on an existing Swarm (single region): then they announce their Swarm service names.
     */
    readonly privateIp?: pulumi.Input<string>;
}

/** Arguments of {@link Redis}. */
export interface RedisArgs {
    /** The Swarm, its provider and overlay networks. */
    readonly swarm: SwarmContext;
    /** primary: master + replicas + sentinels; standby: one replica (priority 0) of the primary region's master. */
    readonly role: Role;
    /** This stack's region (the RDB copy's key prefix). */
    readonly region: string;
    /**
     * The data hosts, one per node. Redis and Sentinel announce these addresses (host-mode ports), so that
     * the standby region's replica and the primary's sentinels reach each other over the VPC peering.
     */
    readonly hosts: RedisHost[];
    /** Replicas (2 in the primary; 1 in the standby). */
    readonly replicas: number;
    /** Sentinels and quorum (primary only). */
    readonly sentinels: number;
    readonly quorum: number;
    /** Sentinel down-after-milliseconds. */
    readonly downAfterMs: number;
    /** Standby only: the primary region's master, as announced there. */
    readonly primaryMaster?: { readonly host: pulumi.Input<string>; readonly port: number };
    /** Redis, exporter and AWS CLI images, pinned. */
    readonly images: { readonly redis: pulumi.Input<string>; readonly exporter: pulumi.Input<string>; readonly awsCli: pulumi.Input<string> };
    /** Swarm secret with the Redis password (shared by both regions). */
    readonly passwordSecret: docker.Secret;
    /** This region's bucket and key for the hourly RDB copy. */
    readonly backupBucket: pulumi.Input<string>;
    readonly backupKmsKeyArn: pulumi.Input<string>;
    /**
     * The region fence (components/fenceSync.ts): the host volume the nodes and sentinels mount read-only and read in
     * their start script's gate, and the sync service they depend on (renderers/fence.ts).
     */
    readonly fence?: { readonly volume: string; readonly service: pulumi.Resource };
    /**
     * Point-in-time restore (config `restore.redisRdbKey`): the first node's EMPTY volume is seeded from this RDB copy
     * by a restore step (renderers/redisRestore.ts) before redis-server starts; the replicas sync from it.
     */
    readonly restoreFrom?: { readonly bucket: string; readonly region: string; readonly key: string };
}

/**
 * Redis with Sentinel. Each node is its own service pinned to one data host, publishing its port on that host
 * and announcing the host's address; the sentinels do the same. Passwords reach the processes from the Swarm
 * secret through the rendered start scripts; the RDB snapshot is copied to S3 every hour.
 */
export class Redis extends pulumi.ComponentResource {
    /** The sentinels' addresses (for Sentinel-aware clients); empty in the standby region. */
    readonly sentinelAddresses: pulumi.Output<string[]>;
    /** Standby only: the local replica's announced host:port (the standby backend's Redis until promotion). */
    readonly replicaAddress?: pulumi.Output<string>;
    /** The initial master's announced address (the standby region follows it). */
    readonly masterAddress: pulumi.Output<string>;
    readonly masterName: string = REDIS_DEFAULTS.masterName;
    /** Swarm service names of the Redis nodes and the sentinels (for monitoring). */
    readonly nodeServiceNames: string[];
    readonly sentinelServiceNames: string[] = [];

    constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Redis", name, {}, opts);
        const ctx = args.swarm;
        const D = REDIS_DEFAULTS;
        const primary = args.role === "primary";
        if (primary) validateSentinelTopology({ sentinels: args.sentinels, quorum: args.quorum });
        if (!primary && !args.primaryMaster) throw new Error("the standby region's Redis replica needs the primary region's master address");
        const nodeCount = primary ? 1 + args.replicas : args.replicas;
        if (args.hosts.length < Math.max(nodeCount, primary ? args.sentinels : 0)) {
            throw new Error(`Redis needs ${Math.max(nodeCount, args.sentinels)} data hosts (one node and one sentinel per host); dataNodes gives ${args.hosts.length}`);
        }
        // The same names (services, volumes) in both roles: promotion turns the standby's redis-1 into its region's
        // master with its data, instead of a new service with a new, empty volume.
        const nodeNames = Array.from({ length: nodeCount }, (_, i) => `redis-${i + 1}`);
        const host = (i: number) => args.hosts[i % args.hosts.length];
        // What node i announces (and others connect to): the host's address, or the service name on an existing Swarm.
        const ip = (i: number) => pulumi.output(host(i).privateIp ?? `${ctx.prefix}-${nodeNames[i]}`);
        const sentinelAddr = (i: number) => pulumi.output(host(i).privateIp ?? `${ctx.prefix}-redis-sentinel-${i + 1}`);

        // Restore: the first node (the primary region's initial master) waits for the restore step's marker.
        const restoring = Boolean(args.restoreFrom && primary);
        // The sentinels an empty node (or sentinel) asks for the current master: the other hosts' first, its own
        // host's last (it came back empty with it). None in the standby region.
        const sentinelCount = primary ? args.sentinels : 0;
        const askOrder = (i: number) => pulumi.all(Array.from({ length: sentinelCount }, (_, j) => j).sort((a, b) => Number(a === i) - Number(b === i)).map((j) => sentinelAddr(j)));
        // The official image runs redis as uid 999; the start scripts run as that user too.
        const secret = mountSecret(args.passwordSecret, D.passwordFile.split("/").pop()!, 0o400, REDIS_USER);
        this.nodeServiceNames = nodeNames.map((n) => `${ctx.prefix}-${n}`);
        const masterHost = primary ? ip(0) : pulumi.output(args.primaryMaster!.host);
        // The region fence's start gate, in every node's and sentinel's start script (none when rendered as a standby).
        const gate = args.fence ? { fence: { region: args.region, role: args.role } } : {};
        const masterPort = primary ? D.port : args.primaryMaster!.port;

        // One member at a time, each converged before the next (lib/swarmSpec.ts memberRolling): the replicas first
        // (redis-n .. redis-2), the rendered initial master redis-1 last, then the sentinels one by one. Sentinel
        // moves the master on failures; a clean stop of whichever node is master then restarts it with its data
        // (AOF) within the down-after window or lets the sentinels fail over to a replica that is already rolled.
        let prev: docker.Service | undefined;
        [...nodeNames.keys()].reverse().forEach((i) => {
            const node = nodeNames[i];
            const conf = pulumi.all([ip(i), masterHost]).apply(([self, mHost]) =>
                renderRedisConf({
                    name: node,
                    region: args.role,
                    announceHost: self,
                    // The primary region's first node starts as master; every other node starts as its replica.
                    replicaOf: primary && i === 0 ? undefined : { host: mHost, port: masterPort },
                    replicaPriority: primary ? D.replicaPriority : 0,
                    // Three quarters of the memory limit: a snapshot's fork copies pages as they are written.
                    maxmemoryMb: Math.floor((0.75 * memoryBytes(TIER_SIZES.redis.limits.memory)) / 1024 ** 2),
                }),
            );
            const confObj = swarmConfig(this, ctx, `${node}-conf`, conf);
            // An empty volume joins the master the live sentinels report (renderers/redisScripts.ts renderRedisStart).
            const start = pulumi.all([ip(i), askOrder(i)]).apply(([self, asks]) =>
                renderRedisStart({
                    self: { host: self, port: D.port },
                    sentinels: asks.map((h) => ({ host: h, port: D.sentinelPort })),
                    ...(i === 0 && restoring ? { waitForRestore: redisRestoreMarker() } : {}),
                    ...gate,
                }),
            );
            const redisStart = swarmConfig(this, ctx, `${node}-start`, start);
            prev = this.pinnedService(name, node, args, i, prev, {
                image: args.images.redis,
                commands: ["sh", D.redisStartPath],
                configs: [mountConfig(confObj, D.redisConfSource), mountConfig(redisStart, D.redisStartPath, 0o555)],
                secrets: [secret],
                port: D.port,
                resources: swarmResources("redis"),
                // requirepass is on: redis-cli reads the password from REDISCLI_AUTH, set from the secret file inside
                // the check (never in the spec). A loading or syncing replica answers PING too, so this is liveness.
                healthcheck: healthcheck(["CMD-SHELL", `REDISCLI_AUTH="$(cat ${D.passwordFile})" redis-cli --no-auth-warning -p ${D.port} ping | grep -q PONG`], { interval: 10, timeout: 3, retries: 3, startPeriod: 30 }),
            });
        });

        let sentinels: pulumi.Output<string>[] = [];
        if (primary) {
            sentinels = Array.from({ length: args.sentinels }, (_, i) => {
                const sname = `redis-sentinel-${i + 1}`;
                // An empty sentinel monitors the master the other sentinels report.
                const others = pulumi.all(Array.from({ length: args.sentinels }, (_, j) => j).filter((j) => j !== i).map((j) => sentinelAddr(j)));
                const sentinelStart = swarmConfig(this, ctx, `${sname}-start`, others.apply((hs) => renderSentinelStart({ sentinels: hs.map((h) => ({ host: h, port: D.sentinelPort })), ...gate })));
                this.sentinelServiceNames.push(`${ctx.prefix}-${sname}`);
                const conf = pulumi.all([sentinelAddr(i), masterHost]).apply(([self, mHost]) =>
                    renderSentinelConf({ name: sname, master: { host: mHost, port: D.port }, sentinels: args.sentinels, quorum: args.quorum, announceHost: self, downAfterMs: args.downAfterMs }),
                );
                const confObj = swarmConfig(this, ctx, `${sname}-conf`, conf);
                prev = this.pinnedService(name, sname, args, i, prev, {
                    image: args.images.redis,
                    commands: ["sh", D.sentinelStartPath],
                    configs: [mountConfig(confObj, D.sentinelConfSource), mountConfig(sentinelStart, D.sentinelStartPath, 0o555)],
                    secrets: [secret],
                    port: D.sentinelPort,
                    resources: swarmResources("sentinel"),
                    // Sentinel itself has no requirepass (auth-pass is for the master): an unauthenticated PING.
                    healthcheck: healthcheck(["CMD-SHELL", `redis-cli -p ${D.sentinelPort} ping | grep -q PONG`], { interval: 10, timeout: 3, retries: 3, startPeriod: 15 }),
                });
                return pulumi.interpolate`${sentinelAddr(i)}:${D.sentinelPort}`;
            });
        }

        // Hourly RDB copy to this region's bucket: a replica's own snapshot (never loads the master), read from
        // its data volume by a sidecar pinned to the same host (the AWS CLI image has no redis-cli).
        const source = primary ? 1 : 0;
        const rdbMount = "/redis-data";
        const backupScript = pulumi.all([args.backupBucket, args.backupKmsKeyArn, ip(source)]).apply(([bucket, kms, srcIp]) =>
            renderRdbBackupScript({ region: args.region, bucket, kmsKeyId: kms, source: { host: srcIp, port: D.port }, rdbFile: `${rdbMount}/dump.rdb` }),
        );
        const backupCfg = swarmConfig(this, ctx, "redis-rdb-backup", backupScript);
        new docker.Service(
            `${name}-rdb-backup`,
            {
                name: `${ctx.prefix}-redis-rdb-backup`,
                mode: { replicated: { replicas: 1 } },
                taskSpec: {
                    containerSpec: {
                        image: args.images.awsCli,
                        commands: ["sh", D.backupScriptPath],
                        configs: [mountConfig(backupCfg, D.backupScriptPath, 0o555)],
                        mounts: [{ type: "volume", source: `${ctx.prefix}-${nodeNames[source]}-data`, target: rdbMount, readOnly: true }],
                        // The loop writes the time of its last upload to last-success: unhealthy when no copy landed
                        // within two intervals (sh and date: amazonlinux:2 base of the AWS CLI image).
                        healthcheck: healthcheck(
                            ["CMD-SHELL", `[ -s ${D.backupWorkDir}/last-success ] && [ $(( $(date -u +%s) - $(cat ${D.backupWorkDir}/last-success) )) -lt ${2 * D.backupIntervalS + 300} ]`],
                            { interval: 60, timeout: 5, retries: 3, startPeriod: 600 },
                        ),
                    },
                    resources: swarmResources("rdbBackup"),
                    placement: { constraints: placeOn("data", { hostname: host(source).hostname }) },
                    networksAdvanceds: [attachNetwork(ctx.networks.data)],
                    restartPolicy: { condition: "any", delay: "60s" },
                },
            },
            { parent: this, provider: ctx.provider },
        );

        if (args.restoreFrom && primary) {
            // The restore step: the AWS CLI image (root, sh, head, chown: amazonlinux:2) on the first node's host, with its volume.
            const rf = args.restoreFrom;
            const restoreCfg = swarmConfig(this, ctx, "redis-restore", renderRedisRestoreScript({ bucket: rf.bucket, region: rf.region, key: rf.key, owner: `${REDIS_USER.uid}:${REDIS_USER.gid}` }));
            new docker.Service(
                `${name}-restore`,
                {
                    name: `${ctx.prefix}-redis-restore`,
                    mode: { replicated: { replicas: 1 } },
                    taskSpec: {
                        containerSpec: {
                            image: args.images.awsCli,
                            commands: ["sh", REDIS_RESTORE_DEFAULTS.scriptPath],
                            configs: [mountConfig(restoreCfg, REDIS_RESTORE_DEFAULTS.scriptPath, 0o555)],
                            mounts: [{ type: "volume", source: `${ctx.prefix}-${nodeNames[0]}-data`, target: D.dataDir }],
                            healthcheck: healthcheck(["CMD-SHELL", `test -e ${redisRestoreMarker()}`], { interval: 10, timeout: 3, retries: 3, startPeriod: 600 }),
                        },
                        resources: swarmResources("rdbBackup"),
                        placement: { constraints: placeOn("data", { hostname: host(0).hostname }) },
                        networksAdvanceds: [attachNetwork(ctx.networks.data)],
                        restartPolicy: { condition: "any", delay: "30s" },
                    },
                },
                { parent: this, provider: ctx.provider },
            );
        }

        // redis_exporter for Prometheus (multi-target: Prometheus names each node); it reads the password only
        // from its environment, so a rendered start script exports it from the secret file.
        const exporterStart = swarmConfig(this, ctx, "redis-exporter-start", renderSecretEnvStart({ vars: { REDIS_PASSWORD: D.passwordFile }, exec: ["/redis_exporter"] }));
        new docker.Service(
            `${name}-exporter`,
            {
                name: `${ctx.prefix}-redis-exporter`,
                mode: { replicated: { replicas: 1 } },
                taskSpec: {
                    containerSpec: {
                        image: args.images.exporter,
                        commands: ["sh", "/usr/local/bin/ops-redis-exporter-start.sh"],
                        configs: [mountConfig(exporterStart, "/usr/local/bin/ops-redis-exporter-start.sh", 0o555)],
                        // The image runs as 59000:59000 (USER in its Dockerfile): the secret is that user's.
                        secrets: [mountSecret(args.passwordSecret, D.passwordFile.split("/").pop()!, 0o400, REDIS_EXPORTER_USER)],
                        // busybox wget (alpine base); /health answers "ok" without scraping Redis (oliver006/redis_exporter exporter/http.go, healthHandler).
                        healthcheck: healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9121/health"], { interval: 15, timeout: 3, retries: 3, startPeriod: 10 }),
                    },
                    resources: swarmResources("exporter"),
                    placement: { constraints: placeOn("app") },
                    networksAdvanceds: [attachNetwork(ctx.networks.app), attachNetwork(ctx.networks.data)],
                    restartPolicy: { condition: "any", delay: "5s" },
                },
                updateConfig: statelessUpdate(1, "5s", "20s"),
                rollbackConfig: statelessRollback(1, "20s"),
            },
            { parent: this, provider: ctx.provider },
        );

        this.sentinelAddresses = pulumi.all(sentinels);
        if (!primary) this.replicaAddress = pulumi.interpolate`${ip(0)}:${D.port}`;
        this.masterAddress = masterHost;
        this.registerOutputs({ sentinelAddresses: this.sentinelAddresses, masterAddress: this.masterAddress });
    }

    /** One Redis or Sentinel task pinned to host i, its port published on that host only. */
    private pinnedService(
        name: string,
        service: string,
        args: RedisArgs,
        i: number,
        /** The member rolled just before this one (its dependsOn). */
        after: docker.Service | undefined,
        spec: {
            image: pulumi.Input<string>;
            commands: string[];
            configs: ReturnType<typeof mountConfig>[];
            secrets: ReturnType<typeof mountSecret>[];
            port: number;
            resources: ReturnType<typeof swarmResources>;
            /** The container health check (redis-cli, which the redis image ships). */
            healthcheck: ReturnType<typeof healthcheck>;
        },
    ): docker.Service {
        const ctx = args.swarm;
        const h = args.hosts[i % args.hosts.length];
        return new docker.Service(
            `${name}-${service}`,
            {
                name: `${ctx.prefix}-${service}`,
                mode: { replicated: { replicas: 1 } },
                taskSpec: {
                    containerSpec: {
                        image: spec.image,
                        user: REDIS_UID,
                        commands: spec.commands,
                        configs: spec.configs,
                        secrets: spec.secrets,
                        mounts: [
                            { type: "volume", source: `${ctx.prefix}-${service}-data`, target: REDIS_DEFAULTS.dataDir },
                            ...(args.fence ? [{ type: "volume", source: args.fence.volume, target: FENCE_DEFAULTS.dir, readOnly: true }] : []),
                        ],
                        healthcheck: spec.healthcheck,
                    },
                    placement: { constraints: placeOn("data", { hostname: h.hostname }) },
                    resources: spec.resources,
                    networksAdvanceds: [attachNetwork(ctx.networks.data)],
                    restartPolicy: { condition: "any", delay: "2s" },
                },
                // Published on the host itself only where the host address is announced (reachable from the other region).
                endpointSpec: h.privateIp !== undefined ? { ports: [{ targetPort: spec.port, publishedPort: spec.port, protocol: "tcp", publishMode: "host" }] } : undefined,
                // Health: start period up to 30 s + 3 x 10 s.
                ...memberRolling("60s", "5m"),
            },
            // The first member after the fence sync (its gate waits for the sync's first round); the others follow it.
            { parent: this, provider: ctx.provider, dependsOn: after ? [after] : args.fence ? [args.fence.service] : [] },
        );
    }
}
