/**
 * Pure placement math for the substrate: subnet cutting, round-robin zone assignment of host pools,
 * Swarm manager selection, and the WAL bucket's name. No Pulumi import: unit-tested in test/placement.test.ts.
 */
import { formatCidr, parseCidr, subnet } from "./cidr";
import type { HostRole } from "../config/types";

/** AWS refuses subnets smaller than /28. */
export const MIN_SUBNET_PREFIX_LIMIT = 28;

/** Swarm managers: app nodes 0..2, one per zone (3 managers tolerate the loss of one zone). */
export const SWARM_MANAGER_COUNT = 3;

/** The public and private subnet CIDRs of a VPC, one of each per zone, index = zone index. */
export interface SubnetPlan {
    readonly public: readonly string[];
    readonly private: readonly string[];
}

/**
 * Cuts `vpcCidr` into equal blocks, enough for 2 x `azCount` of them (a power of two): the first half
 * of the VPC holds the public subnets (blocks 0..azCount-1), the second half the private ones, so that
 * "10.x.128.0/17 and above is private" holds for any zone count. For a /16 and 3 zones: /19 blocks,
 * public 10.10.0.0/19, 10.10.32.0/19, 10.10.64.0/19; private 10.10.128.0/19, 10.10.160.0/19, 10.10.192.0/19.
 */
export function planSubnets(vpcCidr: string, azCount: number): SubnetPlan {
    const vpc = parseCidr(vpcCidr);
    if (!vpc) throw new Error(`vpcCidr = ${JSON.stringify(vpcCidr)}: must be an IPv4 CIDR a.b.c.d/n with no host bits set`);
    if (!Number.isInteger(azCount) || azCount < 1 || azCount > 8) {
        throw new Error(`azCount = ${azCount}: must be an integer from 1 to 8`);
    }
    const bits = Math.ceil(Math.log2(2 * azCount));
    const prefix = vpc.prefix + bits;
    if (prefix > MIN_SUBNET_PREFIX_LIMIT) {
        throw new Error(
            `vpcCidr = ${vpcCidr}: too small for ${azCount} zones (needs ${2 * azCount} subnets of /${prefix}; AWS allows at most /${MIN_SUBNET_PREFIX_LIMIT})`,
        );
    }
    const half = 2 ** (bits - 1);
    const range = Array.from({ length: azCount }, (_, i) => i);
    return {
        public: range.map((i) => formatCidr(subnet(vpc, prefix, i))),
        private: range.map((i) => formatCidr(subnet(vpc, prefix, half + i))),
    };
}

/** Zone index of the `index`-th node of a pool: round robin, so consecutive nodes land in different zones. */
export function zoneIndex(index: number, zoneCount: number): number {
    if (!Number.isInteger(zoneCount) || zoneCount < 1) throw new Error(`zoneCount = ${zoneCount}: must be a positive integer`);
    if (!Number.isInteger(index) || index < 0) throw new Error(`index = ${index}: must be a non-negative integer`);
    return index % zoneCount;
}

/** How a node enters the Swarm. */
export type SwarmJoin = "init" | "manager" | "worker";

/** One planned host. */
export interface PlannedNode {
    /** Swarm node hostname, unique in the region's Swarm: `<role>-<index>`. */
    readonly hostname: string;
    readonly role: HostRole;
    /** Index within its pool. */
    readonly index: number;
    /** Index into the zone (and subnet) lists. */
    readonly zoneIndex: number;
    /** `init` for app-0 (runs `docker swarm init`), `manager` for app-1 and app-2, `worker` otherwise. */
    readonly join: SwarmJoin;
}

/**
 * Every host of a region: pools in the order edge, app, data, each spread round robin over the zones.
 * App nodes 0..2 are the managers, so with 3 or more zones the 3 managers sit in 3 different zones.
 */
export function planNodes(pools: Readonly<Record<HostRole, { readonly count: number }>>, zoneCount: number): PlannedNode[] {
    const nodes: PlannedNode[] = [];
    if (pools.app.count < SWARM_MANAGER_COUNT) {
        throw new Error(`app pool count = ${pools.app.count}: must be at least ${SWARM_MANAGER_COUNT} (the Swarm managers)`);
    }
    if (zoneCount < SWARM_MANAGER_COUNT) {
        throw new Error(`zoneCount = ${zoneCount}: must be at least ${SWARM_MANAGER_COUNT} so that each manager has its own zone`);
    }
    for (const role of ["edge", "app", "data"] as const) {
        const count = pools[role].count;
        if (!Number.isInteger(count) || count < 0) throw new Error(`${role} pool count = ${count}: must be a non-negative integer`);
        for (let i = 0; i < count; i++) {
            const join: SwarmJoin = role !== "app" || i >= SWARM_MANAGER_COUNT ? "worker" : i === 0 ? "init" : "manager";
            nodes.push({ hostname: `${role}-${i}`, role, index: i, zoneIndex: zoneIndex(i, zoneCount), join });
        }
    }
    return nodes;
}

/** Inputs of the WAL bucket name. */
export interface WalBucketNameInput {
    /** Pulumi project name. */
    readonly project: string;
    /** Pulumi stack name. */
    readonly stack: string;
    /** AWS region of the bucket. */
    readonly region: string;
    /** 12-digit AWS account id: bucket names are global, the account makes them unique. */
    readonly accountId: string;
}

/**
 * `<project>-<stack>[-<region>]-wal-<account>`, lower case, only [a-z0-9-], at most 63 characters
 * (the region is left out when the stack is named after it). When too long, the project/stack part
 * is shortened and a short stable hash of the full text is kept, so two long names never collide.
 */
export function walBucketName(input: WalBucketNameInput): string {
    if (!/^\d{12}$/.test(input.accountId)) {
        throw new Error(`accountId = ${JSON.stringify(input.accountId)}: must be a 12-digit AWS account id`);
    }
    const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "");
    const parts = [clean(input.project), clean(input.stack)];
    if (clean(input.stack) !== clean(input.region)) parts.push(clean(input.region));
    const head = parts.filter((p) => p !== "").join("-");
    const tail = `-wal-${input.accountId}`;
    if (head.length + tail.length <= 63) return head + tail;
    const hash = fnv1a(head).toString(16).padStart(8, "0").slice(0, 6);
    const keep = 63 - tail.length - hash.length - 1;
    return `${head.slice(0, keep).replace(/-+$/, "")}-${hash}${tail}`;
}

function fnv1a(text: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
}
