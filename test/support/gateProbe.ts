/**
 * Child process of test/readinessGate.test.ts: builds SwarmHosts alone under the mock engine, with the managers'
 * heartbeats `<prefix>/managers/<hostname>` as the mode says ("ready": app-0 live; "stale": app-0's entry names
 * the instance it replaced and no other manager published; "app0-dead": app-0 silent, app-1 live; "legacy": a stack
 * deployed before the heartbeats, no manager published one and `<prefix>/manager-instance-id` holds app-0's instance
 * id), and prints what the Docker host Output became (the host string, or the gate's error), each manager's private
 * IP and how many heartbeat reads the gate made.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { OfflineMocks } from "../../offline/mocks";
import { readStackConfig } from "../../offline/engine";
import { validateConfig } from "../../config/validate";

class ModeMocks extends OfflineMocks {
    private readonly instances = new Map<string, string>();
    /** Heartbeat reads (`<prefix>/managers/<hostname>`): one gate attempt reads each of the 3 managers once. */
    heartbeatReads = 0;
    constructor(private readonly mode: string) {
        super("us-east-1", () => ({}));
    }
    newResource(args: pulumi.runtime.MockResourceArgs) {
        const r = super.newResource(args);
        if (args.type === "aws:ec2/instance:Instance") this.instances.set(args.name.replace(/^gate-/, ""), r.id!);
        return r;
    }
    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        const a = args.inputs as Record<string, unknown>;
        const m = /\/swarm\/managers\/(app-\d+)$/.exec(String(a.name));
        if (args.token === "aws:ssm/getParameter:getParameter" && m) this.heartbeatReads++;
        if (args.token === "aws:ssm/getParameter:getParameter" && /\/swarm\/manager-instance-id$/.test(String(a.name)) && this.mode !== "ready") {
            const value = this.mode === "legacy" ? this.instances.get("app-0") : undefined;
            if (!value) throw new Error(`ParameterNotFound: ${a.name}`);
            return { name: a.name, value, insecureValue: value, type: "String", id: a.name };
        }
        if (args.token === "aws:ssm/getParameter:getParameter" && m && this.mode !== "ready") {
            const now = Math.floor(Date.now() / 1000);
            const value =
                this.mode === "stale" && m[1] === "app-0" ? `addr=10.10.128.9 instance=i-0stale0000000000 at=${now}`
                : this.mode === "app0-dead" && m[1] === "app-1" ? `addr=10.10.160.9 instance=${this.instances.get("app-1")} at=${now}`
                : undefined;
            if (!value) throw new Error(`ParameterNotFound: ${a.name}`);
            return { name: a.name, value, insecureValue: value, type: "String", id: a.name };
        }
        return super.call(args);
    }
}

async function probe(mode: string): Promise<string> {
    const root = path.resolve(__dirname, "..", "..");
    const { values } = readStackConfig(root, "us-east-1");
    const mocks = new ModeMocks(mode);
    await pulumi.runtime.setMocks(mocks, "ops-center-ha", "us-east-1", false);
    const cfg = validateConfig({ stack: "us-east-1", region: "us-east-1", get: (k) => values[`ops-center-ha:${k}`] });
    const { SwarmHosts } = await import("../../components/swarmHosts");
    const hosts = new SwarmHosts("gate", {
        stack: "us-east-1",
        region: "us-east-1",
        hosts: cfg.hosts,
        network: {
            azs: ["us-east-1a", "us-east-1b", "us-east-1c"],
            publicSubnetIds: ["subnet-p0", "subnet-p1", "subnet-p2"],
            privateSubnetIds: ["subnet-q0", "subnet-q1", "subnet-q2"],
            securityGroupIds: { edge: "sg-edge", app: "sg-app", data: "sg-data" },
            reservedCidrs: ["10.10.0.0/16"],
        },
        walBucket: { arn: "arn:aws:s3:::wal", kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k" },
        readiness: { attempts: 3, intervalSeconds: 0.05 },
        // The private path names the chosen manager by its IP, which this probe reports; the default SSM path names it
        // by instance id (test/sshPath.test.ts covers that form).
        dockerSshVia: "private",
    });
    // Output.promise() is internal but the only way to see a rejected Output here.
    const promise = <T>(o: pulumi.Output<T>) => (o as unknown as { promise(): Promise<T> }).promise();
    const ips = await Promise.all(hosts.nodes.filter((n) => n.manager).map(async (n) => `${n.hostname}=${await promise(n.privateIp)}`));
    process.stdout.write(`managers ${ips.join(" ")}\n`);
    try {
        return await promise(hosts.dockerHost);
    } finally {
        process.stdout.write(`heartbeat-reads ${mocks.heartbeatReads}\n`);
    }
}

probe(process.argv[2] ?? "ready").then(
    (host) => process.stdout.write(`host ${host}\n`, () => process.exit(0)),
    (err: unknown) => process.stdout.write(`error ${err instanceof Error ? err.message : String(err)}\n`, () => process.exit(0)),
);
