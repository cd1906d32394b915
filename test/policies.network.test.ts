/**
 * Network and compute policies, awsguard style: the happy-path resource passes, one changed field fails.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { awsTagsValid, ec2Imdsv2, ec2PublicIpEdgeOnly, ec2UserDataNoRestart, ec2VolumesEncrypted, iamNoStarOnStar, iamTextValid, ssmParameterName } from "../policies/compute";
import { sgNoWorldSsh, sgTextValid, sgWorldOnlyWebOnEdge } from "../policies/network";
import { TYPES } from "../policies/support";
import { runResource, runStack, StackResource, withField } from "./support/policyArgs";

const one = (out: unknown, re: RegExp) => assert.ok(Array.isArray(out) && out.length === 1 && re.test(out[0]), `got ${JSON.stringify(out)}`);

describe("network policies", () => {
    const edgeSg: StackResource = { type: TYPES.securityGroup, name: "edge", props: { id: "sg-edge", description: "Edge hosts", tags: { role: "edge" } } };
    const appSg: StackResource = { type: TYPES.securityGroup, name: "app", props: { id: "sg-app", description: "App hosts", tags: { role: "app" } } };
    const https: StackResource = { type: TYPES.ingressRule, name: "https", props: { securityGroupId: "sg-edge", cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443 } };
    const happy = [edgeSg, appSg, https];
    const change = (path: string, value: unknown) => [edgeSg, appSg, { ...https, props: withField(https.props, path, value) }];

    it("sg-world-only-web-on-edge: 443 from the world on the edge SG passes", async () => assert.deepEqual(await runStack(sgWorldOnlyWebOnEdge, happy), []));
    it("sg-world-only-web-on-edge: another port from the world fails", async () => one(await runStack(sgWorldOnlyWebOnEdge, change("fromPort", 8080)), /only TCP 80\/443/));
    it("sg-world-only-web-on-edge: a port range from the world fails", async () => one(await runStack(sgWorldOnlyWebOnEdge, change("toPort", 444)), /only TCP/));
    it("sg-world-only-web-on-edge: every protocol from the world fails", async () => one(await runStack(sgWorldOnlyWebOnEdge, change("ipProtocol", "-1")), /-1/));
    it("sg-world-only-web-on-edge: 443 from the world on the app SG fails", async () => one(await runStack(sgWorldOnlyWebOnEdge, change("securityGroupId", "sg-app")), /not on the edge hosts/));
    it("sg-world-only-web-on-edge: an IPv6 world source counts too", async () => {
        one(await runStack(sgWorldOnlyWebOnEdge, [edgeSg, { ...https, props: { ...withField(https.props, "cidrIpv4", undefined), cidrIpv6: "::/0", fromPort: 22, toPort: 22 } }]), /to the internet/);
    });
    it("sg-world-only-web-on-edge: the allowed ports are config", async () => {
        assert.deepEqual(await runStack(sgWorldOnlyWebOnEdge, change("fromPort", 8443).map((r) => (r.name === "https" ? { ...r, props: { ...r.props, toPort: 8443 } } : r)), { config: { allowedPorts: [8443] } }), []);
    });

    const ssh = { cidrIpv4: "198.51.100.0/24", ipProtocol: "tcp", fromPort: 22, toPort: 22, description: "SSH from the admin CIDR" };
    it("sg-no-world-ssh: SSH from the admin CIDR passes", async () => assert.deepEqual(await runResource(sgNoWorldSsh, { type: TYPES.ingressRule, props: ssh }), []));
    it("sg-no-world-ssh: SSH from 0.0.0.0/0 fails", async () => one(await runResource(sgNoWorldSsh, { type: TYPES.ingressRule, props: withField(ssh, "cidrIpv4", "0.0.0.0/0") }), /port 22/));
    it("sg-no-world-ssh: a world rule of every protocol fails", async () => {
        one(await runResource(sgNoWorldSsh, { type: TYPES.ingressRule, props: { ...withField(ssh, "cidrIpv4", "0.0.0.0/0"), ipProtocol: "-1", fromPort: 0, toPort: 0 } }), /port 22/);
    });
    it("sg-no-world-ssh: an inline world SSH rule of a security group fails", async () => {
        one(await runResource(sgNoWorldSsh, { type: TYPES.securityGroup, props: { ingress: [withField(ssh, "cidrIpv4", "0.0.0.0/0")] } }), /inline/);
    });

    it("sg-text-valid: EC2's character set passes", async () => assert.deepEqual(await runResource(sgTextValid, { type: TYPES.ingressRule, props: ssh }), []));
    it("sg-text-valid: an apostrophe in a rule description fails (issue 7, crossRegion.ts)", async () => {
        one(await runResource(sgTextValid, { type: TYPES.ingressRule, props: withField(ssh, "description", "Postgres from the standby region's VPC") }), /"'"/);
    });
    it("sg-text-valid: a description over 255 characters fails", async () => one(await runResource(sgTextValid, { type: TYPES.egressRule, props: withField(ssh, "description", "a".repeat(256)) }), /256 characters/));
    it("sg-text-valid: a group description with a quote fails", async () => one(await runResource(sgTextValid, { type: TYPES.securityGroup, props: { description: 'Edge "hosts"' } }), /description/));
    it("sg-text-valid: a group name starting sg- fails", async () => one(await runResource(sgTextValid, { type: TYPES.securityGroup, props: { name: "sg-edge", description: "Edge" } }), /starts with sg-/));
});

describe("compute policies", () => {
    const host = {
        instanceType: "t3.large", associatePublicIpAddress: false, userData: "#cloud-config\nhostname: app-0\n",
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeSize: 40, volumeType: "gp3" }, tags: { Name: "ops-hosts-app-0", role: "app" },
    };
    const inst = (props: Record<string, unknown>, extra: object = {}) => ({ type: TYPES.instance, props, opts: { ignoreChanges: ["userData"] }, ...extra });

    it("ec2-imdsv2: tokens required, hop 1 passes", async () => assert.deepEqual(await runResource(ec2Imdsv2, inst(host)), []));
    it("ec2-imdsv2: httpTokens optional fails", async () => one(await runResource(ec2Imdsv2, inst(withField(host, "metadataOptions.httpTokens", "optional"))), /httpTokens/));
    it("ec2-imdsv2: metadataOptions unset fails (the default is optional)", async () => one(await runResource(ec2Imdsv2, inst(withField(host, "metadataOptions", undefined))), /httpTokens/));
    it("ec2-imdsv2: hop limit 3 fails (default max 2)", async () => one(await runResource(ec2Imdsv2, inst(withField(host, "metadataOptions.httpPutResponseHopLimit", 3))), /hop/i));

    it("ec2-volumes-encrypted: an encrypted root passes", async () => assert.deepEqual(await runResource(ec2VolumesEncrypted, inst(host)), []));
    it("ec2-volumes-encrypted: an unencrypted root fails", async () => one(await runResource(ec2VolumesEncrypted, inst(withField(host, "rootBlockDevice.encrypted", false))), /rootBlockDevice/));
    it("ec2-volumes-encrypted: an unencrypted extra EBS volume fails", async () => {
        one(await runResource(ec2VolumesEncrypted, inst(withField(host, "ebsBlockDevices", [{ deviceName: "/dev/sdf", encrypted: false }]))), /sdf/);
    });

    it("ec2-public-ip-edge-only: a private app host passes", async () => assert.deepEqual(await runResource(ec2PublicIpEdgeOnly, inst(host)), []));
    it("ec2-public-ip-edge-only: a public edge host passes", async () => {
        assert.deepEqual(await runResource(ec2PublicIpEdgeOnly, inst({ ...withField(host, "associatePublicIpAddress", true), tags: { role: "edge" } })), []);
    });
    it("ec2-public-ip-edge-only: a public app host fails", async () => one(await runResource(ec2PublicIpEdgeOnly, inst(withField(host, "associatePublicIpAddress", true))), /app host/));

    it("ec2-user-data-no-restart: user data in ignoreChanges passes", async () => assert.deepEqual(await runResource(ec2UserDataNoRestart, inst(host)), []));
    it("ec2-user-data-no-restart: user data not ignored fails (issue 7)", async () => {
        one(await runResource(ec2UserDataNoRestart, { type: TYPES.instance, props: host, opts: { ignoreChanges: ["ami"] } }), /stops and starts/);
    });
    it("ec2-user-data-no-restart: replace-on-change fails unless the config allows it", async () => {
        const props = withField(host, "userDataReplaceOnChange", true);
        one(await runResource(ec2UserDataNoRestart, { type: TYPES.instance, props }), /replaces every host/);
        assert.deepEqual(await runResource(ec2UserDataNoRestart, { type: TYPES.instance, props, config: { allowReplaceOnChange: true } }), []);
    });

    const doc = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const scoped = { Effect: "Allow", Action: "ssm:GetParameter", Resource: "arn:aws:ssm:us-east-1:1:parameter/x" };
    it("iam-no-star-on-star: a scoped statement passes", async () => assert.deepEqual(await runResource(iamNoStarOnStar, { type: TYPES.iamRolePolicy, props: { policy: doc(scoped) } }), []));
    it("iam-no-star-on-star: Action * on Resource * fails", async () => {
        one(await runResource(iamNoStarOnStar, { type: TYPES.iamRolePolicy, props: { policy: doc({ ...scoped, Action: "*", Resource: "*" }) } }), /\* on \*/);
    });
    it("iam-no-star-on-star: a Deny * on * passes", async () => {
        assert.deepEqual(await runResource(iamNoStarOnStar, { type: TYPES.iamPolicy, props: { policy: doc({ Effect: "Deny", Action: "*", Resource: "*" }) } }), []);
    });
    it("iam-no-star-on-star: an inline role policy with * on * fails", async () => {
        one(await runResource(iamNoStarOnStar, { type: TYPES.iamRole, props: { inlinePolicies: [{ name: "x", policy: doc({ Effect: "Allow", Action: ["*"], Resource: ["*"] }) }] } }), /inline policy x/);
    });

    it("iam-text-valid: IAM names and descriptions pass", async () => assert.deepEqual(await runResource(iamTextValid, { type: TYPES.iamRole, props: { name: "ops-hosts-app", description: "ops-center-ha us-east-1 app hosts" } }), []));
    it("iam-text-valid: a role name over 64 characters fails", async () => one(await runResource(iamTextValid, { type: TYPES.iamRole, props: { name: "r".repeat(65) } }), /1-64/));
    it("iam-text-valid: a space in a name fails", async () => one(await runResource(iamTextValid, { type: TYPES.iamRolePolicy, props: { name: "ops hosts" } }), /name/));
    it("iam-text-valid: a description with an emoji fails", async () => one(await runResource(iamTextValid, { type: TYPES.iamRole, props: { description: "hosts 🚀" } }), /description/));

    it("ssm-parameter-name: a hierarchical name passes", async () => assert.deepEqual(await runResource(ssmParameterName, { type: TYPES.ssmParameter, props: { name: "/ops-center-ha/us-east-1/edge/i-1/keepalived.conf" } }), []));
    it("ssm-parameter-name: a space fails", async () => one(await runResource(ssmParameterName, { type: TYPES.ssmParameter, props: { name: "/ops center" } }), /characters/));
    it("ssm-parameter-name: the reserved aws prefix fails", async () => one(await runResource(ssmParameterName, { type: TYPES.ssmParameter, props: { name: "/aws/x" } }), /reserves/));
    it("ssm-parameter-name: 16 levels fail", async () => one(await runResource(ssmParameterName, { type: TYPES.ssmParameter, props: { name: "/a".repeat(16) } }), /15 levels/));

    it("aws-tags-valid: the program's tags pass", async () => assert.deepEqual(await runResource(awsTagsValid, { type: TYPES.vpc, props: { tags: { Name: "ops-net-vpc", project: "ops-center-ha", role: "primary" } } }), []));
    it("aws-tags-valid: an aws: key fails", async () => one(await runResource(awsTagsValid, { type: TYPES.vpc, props: { tags: { "aws:x": "y" } } }), /reserved/));
    it("aws-tags-valid: a value of 257 characters fails", async () => one(await runResource(awsTagsValid, { type: TYPES.vpc, props: { tags: { Name: "n".repeat(257) } } }), /0-256/));
    it("aws-tags-valid: docker resources are not AWS tags", async () => assert.deepEqual(await runResource(awsTagsValid, { type: TYPES.service, props: { tags: { "aws:x": "y" } } }), []));
});
