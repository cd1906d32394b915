/** The validated, typed configuration of one region stack. Built only by `validate.ts`. */

import { RestoreConfig } from "./restore";

export type Role = "primary" | "standby";
export type Color = "blue" | "green";
export type TlsMode = "dns01" | "certificate";

export interface HaConfig {
    readonly stack: string;
    /** AWS region of this stack (`aws:region`). */
    readonly region: string;
    readonly role: Role;
    /** `org/project/stack` of the primary this region was built as a standby of (kept after promotion). */
    readonly primaryStack?: string;
    /**
     * The role the region was built with: standby when it names a `primaryStack`. A promoted standby (role primary,
     * builtAs standby) keeps its standby hosts' sizes, its Redis/Postgres names and its SECONDARY failover record, so
     * that promotion is the one change `role: primary`.
     */
    readonly builtAs: Role;
    readonly peerRegion?: string;
    readonly network: {
        readonly vpcCidr: string;
        readonly peerVpcCidr?: string;
        readonly adminCidr: string;
        readonly azCount: number;
        /** The stack's zones, index = zone index (absent with an existing Swarm). */
        readonly availabilityZones?: readonly string[];
    };
    readonly dns: {
        readonly domain: string;
        readonly hostedZoneId: string;
        readonly ttl: number;
        readonly healthCheckInterval: number;
        readonly healthCheckFailureThreshold: number;
        readonly alarmEmail?: string;
        readonly cloudflare?: { readonly zoneId: string; readonly hostname: string };
    };
    readonly hosts: {
        /** When set, no EC2 hosts are created and the Docker provider talks to this host. */
        readonly existingSwarmHost?: string;
        /** With an existing Swarm: the data nodes' hostnames. */
        readonly existingSwarmDataHosts?: readonly string[];
        readonly amiSsmParameter: string;
        readonly sshUser: string;
        readonly sshKeyName?: string;
        readonly rootVolumeGb: number;
        /** GiB of each data host's EBS data volume. */
        readonly dataVolumeGb: number;
        /** Explicit AMI per hostname (hosts not listed keep the AMI they were created with). */
        readonly hostAmis: Readonly<Record<string, string>>;
        /** The one host (`<role>-<index>`) that takes the current AMI and user data in this update, by replacement. */
        readonly rollHost?: string;
        readonly pools: Readonly<Record<HostRole, { readonly count: number; readonly instanceType: string }>>;
    };
    readonly frontend: { readonly replicas: number; readonly image: string };
    readonly backend: {
        readonly replicas: number;
        readonly activeColor: Color;
        readonly image: string;
        readonly inactiveImage: string;
    };
    readonly postgres: {
        readonly members: number;
        /** The member a roll stops last (config postgresRollLast: the live leader); unset: pg-1..pg-N in order. */
        readonly rollLast?: string;
        readonly etcdMembers: number;
        readonly ttl: number;
        readonly loopWait: number;
        readonly retryTimeout: number;
        readonly archiveTimeout: number;
        readonly backupRetentionDays: number;
    };
    readonly redis: {
        readonly replicas: number;
        readonly sentinels: number;
        readonly quorum: number;
        readonly downAfterMs: number;
    };
    readonly edge: {
        readonly keepalivedPriority: number;
        readonly routerId: number;
        readonly tlsMode: TlsMode;
        readonly acmeEmail: string;
    };
    /** Point-in-time restore: the Postgres cluster is a NEW one cloned from these backups (config/restore.ts). */
    readonly restore?: RestoreConfig;
    readonly images: {
        readonly spilo: string;
        readonly etcd: string;
        readonly haproxy: string;
        readonly redis: string;
        readonly redisExporter: string;
        readonly postgresExporter: string;
        readonly blackboxExporter: string;
        readonly nodeExporter: string;
        readonly awsCli: string;
        readonly traefik: string;
        readonly socketProxy: string;
        readonly prometheus: string;
        readonly alertmanager: string;
    };
}

export type HostRole = "edge" | "app" | "data";
export const HOST_ROLES: readonly HostRole[] = ["edge", "app", "data"];
