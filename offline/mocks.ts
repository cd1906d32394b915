/**
 * Mock engine behaviour for the offline plan and the tests: records every resource's inputs and invents
 * the computed values a real provider would return (ids, ARNs, addresses, generated passwords), the same
 * for every run so that the plan is stable.
 */
import { createHash } from "node:crypto";
import type { MockCallArgs, MockCallResult, MockResourceArgs, MockResourceResult, Mocks } from "@pulumi/pulumi/runtime";

export const MOCK_ACCOUNT = "123456789012";

export interface MockRecord {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    /** What the provider would store as the resource's state (inputs, computed values, values read back). */
    readonly state: Record<string, unknown>;
}

/** A resource's id and state from an earlier run: what the engine holds for it before the next update. */
export interface PriorResource {
    readonly id: string;
    readonly state: Record<string, unknown>;
}

function digest(text: string, len = 17): string {
    return createHash("sha256").update(text).digest("hex").slice(0, len);
}

/** A stable private address inside 10.x for a resource name. */
export function mockIp(name: string): string {
    const h = createHash("sha256").update(name).digest();
    return `10.${h[0] % 250}.${h[1] % 250}.${(h[2] % 250) + 4}`;
}

export class OfflineMocks implements Mocks {
    readonly records = new Map<string, MockRecord>();
    private readonly ids = new Map<string, string>();

    /**
     * `prior` (keyed `type::name`) makes this a second run: a resource the first run created keeps its id and
     * state, as after an update that changed nothing, so that outputs fed back into the program are the first run's.
     */
    constructor(
        private readonly region: string,
        private readonly stackOutputs: (stackName: string) => Record<string, unknown>,
        private readonly prior?: ReadonlyMap<string, PriorResource>,
        /** Zones reported with state `impaired`: a `state: "available"` query leaves them out, as AWS does. */
        private readonly impairedZones: readonly string[] = [],
    ) {}

    /** The id given to the resource `type`/`name`, if it was registered. */
    idOf(type: string, name: string): string | undefined {
        return this.ids.get(`${type}::${name}`);
    }

    newResource(args: MockResourceArgs): MockResourceResult {
        const key = `${args.type}::${args.name}`;
        if (this.records.has(key)) {
            throw new Error(`two resources of type ${args.type} are both named ${args.name}: names must be unique per type`);
        }
        const before = this.prior?.get(key);
        // Ids keep AWS's shape where the program reads them: an EBS volume's (the data host's script finds its volume by
        // it, renderers/dataVolume.ts) and an EC2 instance's (the Docker provider's SSH target is one, lib/sshPath.ts).
        const id = before?.id ?? (args.type === "aws:ebs/volume:Volume" ? `vol-${digest(key, 17)}` : args.type === "aws:ec2/instance:Instance" ? `i-${digest(key, 17)}` : `${args.name}-${digest(key, 8)}`);
        this.ids.set(key, id);
        const state = before?.state ?? { ...args.inputs, ...this.computed(args, id), ...this.readBack(args) };
        this.records.set(key, { type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, state });
        return { id, state };
    }

    /**
     * Fields a provider stores differently from how they were given, as it reads them back after create. The
     * Docker provider reads a Swarm service's network attachment back as the network's id (@pulumi/docker 5.2,
     * `ServiceTaskSpecNetworksAdvanced`: "Using the name attribute of the docker network will lead to constant
     * replacements"), so an attachment made by name differs from the state on every later update.
     */
    private readBack(args: MockResourceArgs): Record<string, unknown> {
        if (args.type !== "docker:index/service:Service") return {};
        const taskSpec = (args.inputs as Record<string, Record<string, unknown> | undefined>).taskSpec;
        const nets = taskSpec?.networksAdvanceds as Record<string, unknown>[] | undefined;
        if (!taskSpec || !nets) return {};
        const idByName = new Map<unknown, string>();
        for (const [k, r] of this.records) if (r.type === "docker:index/network:Network") idByName.set(r.inputs.name ?? r.name, this.ids.get(k)!);
        const read = nets.map((n) => (n.name !== undefined ? { ...n, name: idByName.get(n.name) ?? n.name } : n));
        return { taskSpec: { ...taskSpec, networksAdvanceds: read } };
    }

    private computed(args: MockResourceArgs, id: string): Record<string, unknown> {
        const service = args.type.split(":")[1]?.split("/")[0] ?? "mock";
        const arn = `arn:aws:${service}:${this.region}:${MOCK_ACCOUNT}:${args.name}`;
        const inputs = args.inputs as Record<string, unknown>;
        switch (args.type) {
            case "pulumi:pulumi:StackReference": {
                const name = String(inputs.name ?? args.name);
                return { name, outputs: this.stackOutputs(name), secretOutputNames: [] };
            }
            case "random:index/randomPassword:RandomPassword":
            case "random:index/randomString:RandomString": {
                const length = Number(inputs.length ?? 32);
                // Recognisable in a leak test, stable across runs, and never a real secret.
                const value = `mock${digest(`secret:${args.name}`, 64)}`.slice(0, length);
                return { result: value, bcryptHash: `$2a$10$${digest(`bcrypt:${args.name}`, 53)}` };
            }
            case "random:index/randomId:RandomId":
                return { hex: digest(`id:${args.name}`, Number(inputs.byteLength ?? 4) * 2), b64Url: digest(`id:${args.name}`, 8) };
            case "aws:ec2/instance:Instance":
                return { arn, privateIp: mockIp(args.name), publicIp: inputs.associatePublicIpAddress ? `198.51.100.${(parseInt(digest(args.name, 2), 16) % 200) + 10}` : "", privateDns: `ip-${mockIp(args.name).replace(/\./g, "-")}.ec2.internal` };
            case "aws:ec2/eip:Eip":
                return { arn, allocationId: `eipalloc-${digest(args.name)}`, publicIp: `203.0.113.${(parseInt(digest(args.name, 2), 16) % 200) + 10}` };
            case "aws:s3/bucket:Bucket":
            case "aws:s3/bucketV2:BucketV2": {
                const bucket = String(inputs.bucket ?? `${args.name}-${digest(args.name, 7)}`);
                return { arn: `arn:aws:s3:::${bucket}`, bucket, bucketDomainName: `${bucket}.s3.amazonaws.com`, region: this.region };
            }
            case "aws:kms/key:Key":
                return { arn: `arn:aws:kms:${this.region}:${MOCK_ACCOUNT}:key/${digest(args.name, 32)}`, keyId: digest(args.name, 32) };
            case "aws:route53/healthCheck:HealthCheck":
                return { arn, id };
            case "aws:route53/record:Record":
                return { fqdn: inputs.name };
            case "pulumi:providers:docker":
                return {};
            default:
                return { arn, name: inputs.name ?? args.name };
        }
    }

    call(args: MockCallArgs): MockCallResult {
        const a = args.inputs as Record<string, unknown>;
        switch (args.token) {
            case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                const all = ["a", "b", "c", "d"].map((s) => `${this.region}${s}`);
                const names = a.state === "available" ? all.filter((n) => !this.impairedZones.includes(n)) : all;
                const zoneId = (n: string) => `${this.region.slice(0, 2)}${this.region.split("-")[1].slice(0, 1)}${this.region.slice(-1)}-az${all.indexOf(n) + 1}`;
                return { names, zoneIds: names.map(zoneId), id: this.region };
            }
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/offline`, userId: "OFFLINE", id: MOCK_ACCOUNT };
            case "aws:index/getRegion:getRegion":
                return { name: this.region, region: this.region, id: this.region };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:ssm/getParameter:getParameter":
                if (/\/swarm\/managers\/app-\d+$/.test(String(a.name))) {
                    // The Docker provider's choice of a live manager (components/swarmHosts.ts): app-0 answers with a
                    // fresh heartbeat, as its cloud-init would once it runs the Swarm; the others have published nothing.
                    const app0 = [...this.ids].find(([k]) => k.startsWith("aws:ec2/instance:Instance::") && k.endsWith("-app-0"));
                    if (!String(a.name).endsWith("/app-0") || !app0) throw new Error(`ParameterNotFound: ${a.name}`);
                    const value = `addr=10.0.0.10 instance=${app0[1]} at=${Math.floor(Date.now() / 1000)}`;
                    return { name: a.name, value, insecureValue: value, type: "String", id: a.name };
                }
                return { name: a.name, value: `ami-${digest(String(a.name))}`, insecureValue: `ami-${digest(String(a.name))}`, type: "String", arn: `arn:aws:ssm:${this.region}::parameter${a.name}`, id: a.name };
            case "aws:iam/getPolicyDocument:getPolicyDocument":
                return { json: JSON.stringify({ Version: "2012-10-17", Statement: a.statements ?? [] }), id: "policy" };
            default:
                return a;
        }
    }
}
