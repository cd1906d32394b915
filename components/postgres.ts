import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Role } from "../config/types";
import { ETCD_DEFAULTS, ETCD_ENTRYPOINT_FILE, etcdHealthcheck, renderEtcdEntrypoint } from "../renderers/etcd";
import { HAPROXY_DEFAULTS, leaderCheckPathFor, renderHaproxyCfg } from "../renderers/haproxy";
import { PATRONI_DEFAULTS, patroniSettings, renderSpiloEntrypoint, spiloEnvironment, SPILO_DEFAULTS, SpiloMemberInput, spiloMemberName, SpiloRestoreSource, spiloRolePasswordFiles } from "../renderers/patroni";
import { FENCE_DEFAULTS } from "../renderers/fence";
import { postgresRoles, POSTGRES_ROLES_DEFAULTS, renderPostInitScript, renderRolesSql } from "../renderers/postgresRoles";
import { postgresTier, swarmResources } from "../lib/sizing";
import { healthcheck, memberRolling, placeOn, rollOrder } from "../lib/swarmSpec";
import { mountConfig, mountSecret, swarmConfig, SwarmContext, attachNetwork } from "./swarmKit";

/** Arguments of {@link Postgres}. */
export interface PostgresArgs {
    /** The Swarm, its provider and overlay networks. */
    readonly swarm: SwarmContext;
    /** primary: the writable cluster; standby: a Patroni standby cluster following the primary region. */
    readonly role: Role;
    /** The role whose member size the data hosts were built for (a promoted standby keeps the standby's); default `role`. */
    readonly sizeAs?: Role;
    /** This stack's AWS region. */
    readonly region: string;
    /**
     * Hostnames of the data hosts, spread over the zones by SwarmHosts: member i and etcd member i are pinned
     * to host i, so no two members share a host or (with 3 hosts in 3 zones) a zone. Empty on an existing
     * Swarm: then members are only kept apart by `maxReplicas` on data-labelled nodes.
     */
    readonly dataHosts: string[];
    /** Patroni members, one per data host (3: leader, synchronous standby, and a third that the next leader makes synchronous). */
    readonly members: number;
    /** The member rolled last (config postgresRollLast: the live leader, so a roll hands over once); unset: pg-1..pg-N in order. */
    readonly rollLast?: string;
    /** etcd members (odd, at least 3). */
    readonly etcdMembers: number;
    /** Patroni timings (validated by the config). */
    readonly timing: { readonly ttl: number; readonly loopWait: number; readonly retryTimeout: number; readonly archiveTimeout: number };
    /** Base backups kept (WAL-G retention), one a day. */
    readonly retainBackups: number;
    /** Spilo, etcd and HAProxy images, pinned. */
    readonly images: { readonly spilo: pulumi.Input<string>; readonly etcd: pulumi.Input<string>; readonly haproxy: pulumi.Input<string> };
    /** This region's WAL bucket and its KMS key. */
    readonly walBucket: pulumi.Input<string>;
    readonly walKmsKeyArn: pulumi.Input<string>;
    /** Standby only: the primary region's leader endpoint and replicated WAL bucket. */
    readonly standbySource?: {
        /** Every primary data host (each publishes HAProxy's leader port): the standby tries them in order. */
        readonly primaryHosts: pulumi.Input<string[]>;
        readonly primaryRegion: string;
    };
    /**
     * Point-in-time restore (config `restore`): the members form a NEW cluster, `scope`, on new volumes, cloned by
     * Spilo from `source` up to its target time. The previous cluster's volumes and WAL stay untouched.
     */
    readonly restore?: { readonly scope: string; readonly source: SpiloRestoreSource };
    /**
     * The region fence (components/fenceSync.ts): the host volume the members mount read-only and read in their
     * entrypoint's start gate, and the sync service they depend on. A member rendered as a primary of a region the
     * other region was promoted away from stays down (renderers/fence.ts).
     */
    readonly fence?: { readonly volume: string; readonly service: pulumi.Resource };
    /** Swarm secrets with the superuser, replication, application-role and monitoring-role passwords. */
    readonly secrets: { readonly superuser: docker.Secret; readonly replication: docker.Secret; readonly app: docker.Secret; readonly monitor: docker.Secret };
}

/**
 * Postgres the way the design document wanted it but could not get it: Patroni (Spilo) members pinned to
 * data hosts in different zones, a 3-member etcd as the DCS, WAL-G archiving and daily base backups to S3,
 * and HAProxy routing clients to whichever member Patroni reports as leader. Only Patroni promotes.
 */
export class Postgres extends pulumi.ComponentResource {
    /** Host:port clients use for writes (HAProxy's leader port). */
    readonly leaderEndpoint: { host: string; port: number };
    /** Swarm service names of the Patroni members and the etcd members (for monitoring). */
    readonly memberServiceNames: string[];
    readonly etcdServiceNames: string[];
    /** The cluster's Patroni scope (a restored cluster has its own). */
    readonly scope: string;

    constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Postgres", name, {}, opts);
        const ctx = args.swarm;
        const pin = (i: number) => (args.dataHosts.length > 0 ? placeOn("data", { hostname: args.dataHosts[i % args.dataHosts.length] }) : placeOn("data"));
        const stateful = { parent: this, provider: ctx.provider };

        // etcd: one member per zone, each its own service so that each keeps its name and volume.
        const etcdNames = Array.from({ length: args.etcdMembers }, (_, i) => `etcd-${i + 1}`);
        const etcdHost = (m: string) => `${ctx.prefix}-${m}`;
        // One member at a time, each converged before the next (lib/swarmSpec.ts memberRolling): etcd-1, etcd-2, etcd-3.
        let prevEtcd: docker.Service | undefined;
        etcdNames.forEach((m, i) => {
            // The entrypoint rejoins a member whose data dir is empty through the live members (member remove/add,
            // then `existing`), so a replaced data host or a new volume never leaves etcd short of a member.
            const entry = swarmConfig(this, ctx, `${m}-entrypoint`, renderEtcdEntrypoint({ name: m, members: etcdNames, hostOf: etcdHost, clusterToken: `${ctx.prefix}-${args.region}` }));
            prevEtcd = new docker.Service(
                `${name}-${m}`,
                {
                    name: etcdHost(m),
                    mode: { replicated: { replicas: 1 } },
                    taskSpec: {
                        containerSpec: {
                            image: args.images.etcd,
                            commands: ["/bin/sh", ETCD_ENTRYPOINT_FILE],
                            configs: [mountConfig(entry, ETCD_ENTRYPOINT_FILE, 0o555)],
                            mounts: [{ type: "volume", source: `${ctx.prefix}-${m}-data`, target: ETCD_DEFAULTS.dataDir }],
                            // etcdctl ships in the image (lib/images.ts etcdImage); the member serves clients on 0.0.0.0. Local, no quorum
                            // (renderers/etcd.ts etcdHealthcheck): a joining member must turn healthy to be resolvable.
                            healthcheck: healthcheck(etcdHealthcheck(ETCD_DEFAULTS.clientPort), { interval: 10, timeout: 5, retries: 3, startPeriod: 30 }),
                        },
                        resources: swarmResources("etcd"),
                        placement: { constraints: pin(i), maxReplicas: 1 },
                        networksAdvanceds: [attachNetwork(ctx.networks.data)],
                        restartPolicy: { condition: "any", delay: "5s" },
                    },
                    // Health: start period 30 s + 3 x 10 s.
                    ...memberRolling("60s", "5m"),
                },
                { ...stateful, dependsOn: prevEtcd ? [prevEtcd] : [] },
            );
        });
        const etcdHosts = etcdNames.map((m) => `${etcdHost(m)}:${ETCD_DEFAULTS.clientPort}`);
        this.etcdServiceNames = etcdNames.map(etcdHost);

        // Spilo members.
        const settings = patroniSettings({
            ttl: args.timing.ttl,
            loopWait: args.timing.loopWait,
            retryTimeout: args.timing.retryTimeout,
            archiveTimeoutSeconds: args.timing.archiveTimeout,
        });
        const entrypoint = swarmConfig(this, ctx, "spilo-entrypoint", renderSpiloEntrypoint(args.fence ? { fence: { region: args.region, role: args.role } } : {}));
        const fenceMount = args.fence ? [{ type: "volume", source: args.fence.volume, target: FENCE_DEFAULTS.dir, readOnly: true }] : [];
        // The roles the tiers log in with, created by Patroni's post_init when the cluster bootstraps.
        const postInit = swarmConfig(this, ctx, "spilo-post-init", renderPostInitScript({ sqlFile: SPILO_DEFAULTS.rolesSqlFile, passwordFiles: spiloRolePasswordFiles(), spiloPostInit: POSTGRES_ROLES_DEFAULTS.spiloPostInit }));
        const rolesSql = swarmConfig(this, ctx, "spilo-roles-sql", renderRolesSql(postgresRoles()));
        // Swarm service names stay pg-1..n; Patroni member names (application_name) carry the region.
        const memberNames = Array.from({ length: args.members }, (_, i) => `pg-${i + 1}`);
        const memberHost = (m: string) => `${ctx.prefix}-${m}`;
        const primaryHosts = args.standbySource ? pulumi.output(args.standbySource.primaryHosts) : pulumi.output([] as string[]);
        this.memberServiceNames = memberNames.map(memberHost);
        // A restored cluster is a new one: its own scope (DCS keys, WAL path) and empty volumes, so Patroni bootstraps.
        const scope = args.restore?.scope ?? PATRONI_DEFAULTS.scope;
        const volume = (m: string) => (args.restore ? `${ctx.prefix}-${m}-${scope}-pgdata` : `${ctx.prefix}-${m}-pgdata`);
        this.scope = scope;
        // One member at a time, each converged before the next (lib/swarmSpec.ts memberRolling): pg-1, pg-2, pg-3,
        // or with `rollLast` (config postgresRollLast, the live leader) the others first and the leader last. Which
        // member leads is Patroni's choice: a clean stop of the leader (Swarm's SIGTERM, stop grace 60 s) hands the
        // leader key to the synchronous standby, and the stopped member comes back as a replica. Stopped last, the
        // leader hands over once, to a member already rolled (bench swarm_postgres_rolling_update).
        let prevMember: docker.Service | undefined;
        rollOrder(memberNames, args.rollLast).forEach((m) => {
            const i = memberNames.indexOf(m);
            const env = pulumi.all([args.walBucket, args.walKmsKeyArn, primaryHosts]).apply(([bucket, kms, srcHosts]) => {
                const member: SpiloMemberInput = {
                    role: args.role,
                    scope,
                    memberName: spiloMemberName(args.region, i + 1),
                    connectHost: memberHost(m),
                    etcdHosts,
                    backup: { bucket, region: args.region, kmsKeyId: kms, retainBackups: args.retainBackups },
                    // The standby region's bucket receives the primary's objects by S3 replication.
                    standby: args.role === "standby" && args.standbySource ? { primaryHosts: srcHosts, primaryPort: HAPROXY_DEFAULTS.primaryPort, replicatedBucket: bucket, primaryRegion: args.standbySource.primaryRegion } : undefined,
                    settings,
                    restore: args.restore?.source,
                };
                return spiloEnvironment(member);
            });
            prevMember = new docker.Service(
                `${name}-${m}`,
                {
                    name: memberHost(m),
                    mode: { replicated: { replicas: 1 } },
                    taskSpec: {
                        containerSpec: {
                            image: args.images.spilo,
                            hostname: memberHost(m),
                            commands: ["/bin/sh", SPILO_DEFAULTS.entrypointFile],
                            env,
                            configs: [
                                mountConfig(entrypoint, SPILO_DEFAULTS.entrypointFile, 0o555),
                                mountConfig(postInit, SPILO_DEFAULTS.postInitFile, 0o444),
                                mountConfig(rolesSql, SPILO_DEFAULTS.rolesSqlFile, 0o444),
                            ],
                            secrets: [
                                mountSecret(args.secrets.superuser, SPILO_DEFAULTS.secretFiles.superuser),
                                mountSecret(args.secrets.replication, SPILO_DEFAULTS.secretFiles.replication),
                                mountSecret(args.secrets.app, SPILO_DEFAULTS.secretFiles.app),
                                mountSecret(args.secrets.monitor, SPILO_DEFAULTS.secretFiles.monitor),
                            ],
                            // A silent primary host costs ~7 s before libpq tries the next (see SPILO_DEFAULTS.tcpSynRetries).
                            sysctl: { "net.ipv4.tcp_syn_retries": String(SPILO_DEFAULTS.tcpSynRetries) },
                            mounts: [{ type: "volume", source: volume(m), target: "/home/postgres/pgdata" }, ...fenceMount],
                            healthcheck: { tests: ["CMD", "curl", "-fsS", `http://localhost:${PATRONI_DEFAULTS.restApiPort}${SPILO_DEFAULTS.livenessPath}`], interval: "10s", timeout: "3s", retries: 3, startPeriod: "120s" },
                            stopGracePeriod: "60s",
                        },
                        // Members on different hosts (and zones); never two on one host.
                        placement: { constraints: pin(i), maxReplicas: 1 },
                        resources: swarmResources(postgresTier(args.sizeAs ?? args.role)),
                        networksAdvanceds: [attachNetwork(ctx.networks.data)],
                        // Patroni decides roles; Swarm only restarts the container, which rejoins as replica.
                        restartPolicy: { condition: "any", delay: "5s" },
                    },
                    // Health: start period 120 s + 3 x 10 s; a replica restore from the WAL archive may take minutes.
                    ...memberRolling("150s", "15m"),
                },
                // The first member after the fence sync (its gate waits for the sync's first round); the others follow it.
                { ...stateful, dependsOn: prevMember ? [prevMember] : args.fence ? [args.fence.service] : [] },
            );
        });

        // HAProxy follows Patroni's leader; in a standby cluster the writable-looking member is the standby leader.
        const haproxyCfg = swarmConfig(
            this,
            ctx,
            "haproxy",
            renderHaproxyCfg({
                servers: memberNames.map((m) => ({ name: m, host: memberHost(m), port: PATRONI_DEFAULTS.postgresPort, apiPort: PATRONI_DEFAULTS.restApiPort })),
                leaderCheckPath: leaderCheckPathFor(args.role),
                // Resolve the members through Swarm's DNS at run time: HAProxy then starts before a member's task
                // exists and follows a member whose address changed.
                dnsResolver: HAPROXY_DEFAULTS.dnsResolver,
            }),
        );
        const routerName = `${ctx.prefix}-postgres-router`;
        new docker.Service(
            `${name}-router`,
            {
                name: routerName,
                mode: { replicated: { replicas: 2 } },
                taskSpec: {
                    containerSpec: {
                        image: args.images.haproxy,
                        configs: [mountConfig(haproxyCfg, "/usr/local/etc/haproxy/haproxy.cfg")],
                        // The official haproxy image (bookworm-slim) has no curl or wget; bash (Essential in Debian) can
                        // open a TCP socket itself: GET /health of the stats listener (renderers/haproxy.ts).
                        healthcheck: healthcheck(
                            ["CMD", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${HAPROXY_DEFAULTS.statsPort} && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '`],
                            { interval: 10, timeout: 3, retries: 3, startPeriod: 10 },
                        ),
                    },
                    resources: swarmResources("postgresRouter"),
                    placement: { constraints: placeOn("data"), maxReplicas: 1 },
                    networksAdvanceds: [attachNetwork(ctx.networks.data), attachNetwork(ctx.networks.app)],
                    restartPolicy: { condition: "any", delay: "2s" },
                },
                // Published through the routing mesh on every node: the standby region streams from it over the peering.
                endpointSpec: { ports: [{ targetPort: HAPROXY_DEFAULTS.primaryPort, publishedPort: HAPROXY_DEFAULTS.primaryPort, protocol: "tcp", publishMode: "ingress" }] },
                updateConfig: { parallelism: 1, delay: "10s", order: "start-first", failureAction: "rollback", monitor: "20s" },
            },
            stateful,
        );
        this.leaderEndpoint = { host: routerName, port: HAPROXY_DEFAULTS.primaryPort };
        this.registerOutputs({ leaderEndpoint: this.leaderEndpoint, memberServiceNames: this.memberServiceNames, scope: this.scope });
    }
}
