/**
 * The AWS APIs' and providers' rules (lib/awsRules.ts): each rule on a compliant resource and on one with a
 * single field changed to break it, then every rule on the whole offline plan of both stacks.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AWS_RULES, AwsRule, checkPlan, PlannedResource } from "../lib/awsRules";
import * as rules from "../lib/awsRules";
import { planStack, STACKS } from "./harness";

const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });

/** The happy-path resource of each rule; a failing case changes one field. */
const ok: Record<string, PlannedResource> = {
    sg: { type: "aws:ec2/securityGroup:SecurityGroup", name: "net-data", inputs: { name: "opscenter-data", description: "Data hosts: Postgres, etcd, Redis", ingress: [{ description: "SSH from the admin CIDR" }] } },
    sgRule: { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "r", inputs: { description: "Postgres from the primary region VPC" } },
    role: { type: "aws:iam/role:Role", name: "hosts-data-role", inputs: { description: "Data hosts (us-east-1)" } },
    profile: { type: "aws:iam/instanceProfile:InstanceProfile", name: "hosts-data-profile", inputs: { role: "r" } },
    bucket: { type: "aws:s3/bucket:Bucket", name: "wal-bucket", inputs: { bucket: "ops-center-ha-us-east-1-wal-123456789012" } },
    param: { type: "aws:ssm/parameter:Parameter", name: "p", inputs: { name: "/opscenter/us-east-1/swarm/manager-token", type: "SecureString", value: secret("tok") } },
    doc: { type: "aws:ssm/document:Document", name: "d", inputs: { name: "opscenter-us-east-1-keepalived-apply" } },
    alias: { type: "aws:kms/alias:Alias", name: "a", inputs: { name: "alias/ops-center-ha-us-east-1-wal" } },
    tagged: { type: "aws:ec2/vpc:Vpc", name: "v", inputs: { tags: { Name: "net-vpc", "opscenter:stack": "us-east-1" } } },
    host: { type: "aws:ec2/instance:Instance", name: "h", inputs: { userData: "#cloud-config\n" }, opts: { ignoreChanges: ["userData"] } },
    service: { type: "docker:index/service:Service", name: "s", inputs: { taskSpec: { networksAdvanceds: [{ id: "net-data-0a1b2c3d" }] } } },
    network: { type: "docker:index/network:Network", name: "net-data", id: "net-data-0a1b2c3d", inputs: { name: "opscenter-data" } },
};
const withInputs = (r: PlannedResource, inputs: Record<string, unknown>, opts = r.opts): PlannedResource => ({ ...r, inputs: { ...r.inputs, ...inputs }, opts });

function violates(rule: AwsRule, r: PlannedResource, message: RegExp, plan: PlannedResource[] = [r]) {
    assert.deepEqual(rule.check(ok[Object.keys(ok).find((k) => ok[k].type === r.type)!], [...Object.values(ok)]), [], `${rule.id}: the happy path complies`);
    const problems = rule.check(r, plan);
    assert.ok(problems.some((p) => message.test(p)), `${rule.id}: expected ${message}, got ${JSON.stringify(problems)}`);
}

describe("AWS and provider rules, one failing field each", () => {
    it("EC2: a security-group rule description has no apostrophe (EC2's character set)", () =>
        violates(rules.securityGroupText, withInputs(ok.sgRule, { description: "Postgres from the primary region's VPC" }), /has "'": EC2 allows only/));
    it("EC2: a security-group description is at most 255 characters", () =>
        violates(rules.securityGroupText, withInputs(ok.sg, { description: "x".repeat(256) }), /at most 255/));
    it("EC2: an inline rule description uses EC2's character set", () =>
        violates(rules.securityGroupText, withInputs(ok.sg, { ingress: [{ description: "SSH <admin>" }] }), /ingress\[0\]\.description/));
    it("EC2: a security-group name does not start with sg-", () =>
        violates(rules.securityGroupText, withInputs(ok.sg, { name: "sg-data" }), /starts with sg-/));
    it("IAM: a role name is at most 64 characters, counting the auto-name suffix", () =>
        violates(rules.iamNames, { ...ok.role, name: "r".repeat(60) }, /IAM allows 1 to 64/));
    it("IAM: an instance-profile name uses IAM's character set", () =>
        violates(rules.iamNames, withInputs(ok.profile, { name: "hosts/data" }), /only letters, digits and \+=,\.@_-/));
    it("IAM: a role description uses IAM's character set", () =>
        violates(rules.iamNames, withInputs(ok.role, { description: "Data hosts → S3" }), /outside IAM's set/));
    it("S3: a bucket name is lower case", () =>
        violates(rules.s3BucketNames, withInputs(ok.bucket, { bucket: "Ops-Center-WAL" }), /only lower-case/));
    it("S3: a bucket name is at most 63 characters", () =>
        violates(rules.s3BucketNames, withInputs(ok.bucket, { bucket: "b".repeat(64) }), /3 to 63/));
    it("S3: an auto-named bucket is judged by the provider's auto-name (logical name lower-cased + suffix)", () =>
        violates(rules.s3BucketNames, { ...ok.bucket, name: "w".repeat(60), inputs: {} }, /3 to 63/));
    it("SSM: a parameter name does not start with aws or ssm", () =>
        violates(rules.ssmNames, withInputs(ok.param, { name: "/ssm/opscenter/token" }), /reserves/));
    it("SSM: a hierarchical parameter name starts with /", () =>
        violates(rules.ssmNames, withInputs(ok.param, { name: "opscenter/token" }), /does not start with \//));
    it("SSM: a Standard parameter value is at most 4 KB (secret values too)", () =>
        violates(rules.ssmNames, withInputs(ok.param, { value: secret("k".repeat(4097)) }), /at most 4096/));
    it("SSM: a document name uses SSM's character set", () =>
        violates(rules.ssmNames, withInputs(ok.doc, { name: "opscenter keepalived" }), /3 to 128/));
    it("KMS: an alias begins with alias/ and not alias/aws/", () => {
        violates(rules.kmsAliases, withInputs(ok.alias, { name: "ops-center-wal" }), /must begin with alias\//);
        violates(rules.kmsAliases, withInputs(ok.alias, { name: "alias/aws/wal" }), /reserved/);
    });
    it("Tags: no aws: prefix, keys at most 128 characters, AWS's character set", () => {
        violates(rules.tags, withInputs(ok.tagged, { tags: { "aws:owner": "x" } }), /reserved/);
        violates(rules.tags, withInputs(ok.tagged, { tags: { ["k".repeat(129)]: "x" } }), /1 to 128/);
        violates(rules.tags, withInputs(ok.tagged, { tags: { Name: "region's vpc" } }), /AWS allows letters/);
    });
    it("EC2: user data not in ignoreChanges stops and starts every host (aws provider docs)", () =>
        violates(rules.userData, withInputs(ok.host, {}, {}), /not in ignoreChanges: a change stops and starts every instance/));
    it("EC2: user data replaced on change is allowed on one host (the roll), not on two", () => {
        const rolled = withInputs(ok.host, { userDataReplaceOnChange: true }, {});
        assert.deepEqual(rules.userData.check(rolled, [rolled, ok.host]), []);
        violates(rules.userData, rolled, /on 2 instances: a change replaces all of them/, [rolled, { ...rolled, name: "h2" }]);
    });
    it("EC2: user data is at most 16 KB", () =>
        violates(rules.userData, withInputs(ok.host, { userData: "#".repeat(16385) }), /at most 16384/));
    it("Docker: a Swarm service attaching a network by name is replaced on every update (docker provider docs)", () =>
        violates(rules.swarmNetworkAttachments, withInputs(ok.service, { taskSpec: { networksAdvanceds: [{ name: "opscenter-data" }] } }), /attaches by name "opscenter-data"/, [ok.network]));
    it("Docker: an attachment id is the id of a planned network", () =>
        violates(rules.swarmNetworkAttachments, withInputs(ok.service, { taskSpec: { networksAdvanceds: [{ id: "opscenter-data" }] } }), /not the id of a network in this plan/, [ok.network]));
    it("every rule cites its source", () => {
        for (const rule of AWS_RULES) assert.ok(rule.source.length > 10, rule.id);
    });
});

describe("AWS and provider rules on the offline plan", () => {
    const clean = (plan: ReturnType<typeof planStack>) =>
        assert.deepEqual(checkPlan(plan.resources).map((v) => `${v.rule} ${v.resource}: ${v.message}`), []);
    for (const stack of STACKS) {
        it(`${stack}: no registered resource breaks an AWS or provider rule`, () => clean(planStack(stack)));
    }
    it("us-east-1 on an existing Swarm: no registered resource breaks an AWS or provider rule", () =>
        clean(planStack("us-east-1", { existingSwarmHost: "ssh://admin@manager-1", existingSwarmDataHosts: "node-1,node-2,node-3" })));
    it("us-east-1 while rolling one host: still clean (one instance takes its user data, by replacement)", () =>
        clean(planStack("us-east-1", { rollHost: "app-1" })));
});
