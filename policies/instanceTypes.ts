/**
 * vCPUs and memory of the EC2 instance types this program may run on, for the placement policies.
 * Source: AWS, "Amazon EC2 instance type specifications" (docs.aws.amazon.com/ec2/latest/instancetypes/gp.html for
 * T3/M6i, co.html for C6i, mo.html for R6i), read 2026-11. Memory is the nominal GiB; Docker sees slightly less.
 * (Issue 8 builds lib/instanceTypes.ts with the same facts for config validation; one of the two tables should go.)
 */
export interface InstanceSize {
    readonly vcpus: number;
    readonly memoryGiB: number;
}

export const INSTANCE_TYPES: Readonly<Record<string, InstanceSize>> = {
    "t3.nano": { vcpus: 2, memoryGiB: 0.5 },
    "t3.micro": { vcpus: 2, memoryGiB: 1 },
    "t3.small": { vcpus: 2, memoryGiB: 2 },
    "t3.medium": { vcpus: 2, memoryGiB: 4 },
    "t3.large": { vcpus: 2, memoryGiB: 8 },
    "t3.xlarge": { vcpus: 4, memoryGiB: 16 },
    "t3.2xlarge": { vcpus: 8, memoryGiB: 32 },
    "m6i.large": { vcpus: 2, memoryGiB: 8 },
    "m6i.xlarge": { vcpus: 4, memoryGiB: 16 },
    "m6i.2xlarge": { vcpus: 8, memoryGiB: 32 },
    "c6i.large": { vcpus: 2, memoryGiB: 4 },
    "c6i.xlarge": { vcpus: 4, memoryGiB: 8 },
    "c6i.2xlarge": { vcpus: 8, memoryGiB: 16 },
    "r6i.large": { vcpus: 2, memoryGiB: 16 },
    "r6i.xlarge": { vcpus: 4, memoryGiB: 32 },
    "r6i.2xlarge": { vcpus: 8, memoryGiB: 64 },
};
