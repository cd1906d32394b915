/**
 * The EC2 instance types this program accepts for its hosts, with the vCPUs and memory Docker sees on them.
 * Pure data: the config validator refuses any other type, and the fit check (lib/fit.ts) sizes hosts from it.
 *
 * Values are AWS's published specifications (x86_64 only: the hosts boot the amd64 Debian AMI):
 * - General purpose (T3, T3a, M6i, M7i): https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html
 * - Compute optimized (C6i, C7i): https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html
 * - Memory optimized (R6i, R7i): https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html
 * Every size from `large` up keeps the family's fixed GiB-per-vCPU ratio (T: 4 from large up, M: 4, C: 2, R: 8).
 */

/** One instance type: what Docker reports as NCPU and (nominal) MemTotal. */
export interface InstanceTypeSpec {
    readonly vcpus: number;
    /** Nominal memory, GiB (the kernel reports slightly less: see lib/fit.ts HOST_MEMORY_HELD_BACK). */
    readonly memoryGiB: number;
    /** The AWS page the numbers come from. */
    readonly source: string;
}

const GP = "https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html";
const CO = "https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html";
const MO = "https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html";

/** Sizes from `large` up, as [size, vCPUs]. */
const SIZES: readonly (readonly [string, number])[] = [
    ["large", 2],
    ["xlarge", 4],
    ["2xlarge", 8],
    ["4xlarge", 16],
    ["8xlarge", 32],
];

function family(name: string, gibPerVcpu: number, source: string, sizes = SIZES): Record<string, InstanceTypeSpec> {
    return Object.fromEntries(sizes.map(([size, vcpus]) => [`${name}.${size}`, { vcpus, memoryGiB: vcpus * gibPerVcpu, source }]));
}

/** Burstable T3/T3a: 2 vCPUs from nano to large, then 4 GiB per vCPU. */
function burstable(name: string): Record<string, InstanceTypeSpec> {
    const small: [string, number][] = [
        ["micro", 1],
        ["small", 2],
        ["medium", 4],
        ["large", 8],
        ["xlarge", 16],
        ["2xlarge", 32],
    ];
    return Object.fromEntries(small.map(([size, gib]) => [`${name}.${size}`, { vcpus: size === "xlarge" ? 4 : size === "2xlarge" ? 8 : 2, memoryGiB: gib, source: GP }]));
}

/** Every instance type the config accepts, by name. */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeSpec>> = {
    ...burstable("t3"),
    ...burstable("t3a"),
    ...family("m6i", 4, GP),
    ...family("m7i", 4, GP),
    ...family("c6i", 2, CO),
    ...family("c7i", 2, CO),
    ...family("r6i", 8, MO),
    ...family("r7i", 8, MO),
};

/** The spec of `name`, or undefined when the program does not know it. */
export function instanceType(name: string): InstanceTypeSpec | undefined {
    return Object.prototype.hasOwnProperty.call(INSTANCE_TYPES, name) ? INSTANCE_TYPES[name] : undefined;
}
