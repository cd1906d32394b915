/**
 * Child process of test/readinessGate.test.ts: builds SwarmHosts alone under the mock engine, with app-0's
 * readiness parameter either matching its instance id ("ready") or holding a stale one ("stale"), and prints
 * what the Docker host Output became: the host string, or the gate's error.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { OfflineMocks } from "../../offline/mocks";
import { readStackConfig } from "../../offline/engine";
import { validateConfig } from "../../config/validate";

class StaleMocks extends OfflineMocks {
    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        const a = args.inputs as Record<string, unknown>;
        if (args.token === "aws:ssm/getParameter:getParameter" && String(a.name).endsWith("/swarm/manager-instance-id")) {
            return { name: a.name, value: "i-0stale0000000000", insecureValue: "i-0stale0000000000", type: "String", id: a.name };
        }
        return super.call(args);
    }
}

async function probe(mode: string): Promise<string> {
    const root = path.resolve(__dirname, "..", "..");
    const { values } = readStackConfig(root, "us-east-1");
    const mocks = mode === "stale" ? new StaleMocks("us-east-1", () => ({})) : new OfflineMocks("us-east-1", () => ({}));
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
    });
    // Output.promise() is internal but the only way to see a rejected Output here.
    return (hosts.dockerHost as unknown as { promise(): Promise<string> }).promise();
}

probe(process.argv[2] ?? "ready").then(
    (host) => process.stdout.write(`host ${host}\n`, () => process.exit(0)),
    (err: unknown) => process.stdout.write(`error ${err instanceof Error ? err.message : String(err)}\n`, () => process.exit(0)),
);
