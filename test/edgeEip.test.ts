/**
 * Issue 12 item 9 on the plan of both stacks: the edge hosts reach EC2 and SSM through interface VPC endpoints
 * (private DNS, so the default API host names resolve to the endpoints inside the VPC and no call depends on the
 * host's public address), the keepalived pair ships and runs the EIP re-check, and the standby's single edge host
 * holds the EIP through an association on its instance id (a replacement host gets it back).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EIP_RECHECK_DEFAULTS } from "../renderers/eipRecheck";
import { renderKeepalivedApplyScript } from "../renderers/edgeHost";
import { ofType, planStack, STACKS, unwrap } from "./harness";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const inputs = (r: { inputs: unknown }) => unwrap(r.inputs) as Json;

for (const stack of STACKS) {
    describe(`edge EIP: ${stack}`, () => {
        const plan = () => planStack(stack);

        it("interface endpoints for ec2, ssm, ssmmessages and ec2messages: private DNS, every private subnet, HTTPS from the VPC only", () => {
            const eps = ofType(plan(), "aws:ec2/vpcEndpoint:VpcEndpoint").map(inputs).filter((e) => e.vpcEndpointType === "Interface");
            const services = eps.map((e) => String(e.serviceName).split(".").pop()).sort();
            assert.deepEqual(services, ["ec2", "ec2messages", "ssm", "ssmmessages"]);
            const privateSubnets = ofType(plan(), "aws:ec2/subnet:Subnet").filter((s) => /-private-\d+$/.test(s.name)).map((s) => s.id).sort();
            assert.equal(privateSubnets.length, 3);
            const sgs = new Set<string>();
            for (const e of eps) {
                assert.equal(e.serviceName, `com.amazonaws.${stack}.${String(e.serviceName).split(".").pop()}`);
                assert.equal(e.privateDnsEnabled, true, `${e.serviceName}: private DNS (the CLI's default endpoint resolves inside the VPC)`);
                assert.deepEqual([...e.subnetIds].sort(), privateSubnets);
                assert.equal(e.securityGroupIds.length, 1);
                sgs.add(e.securityGroupIds[0]);
            }
            assert.equal(sgs.size, 1);
            const sgId = [...sgs][0];
            const rules = ofType(plan(), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map(inputs).filter((r) => r.securityGroupId === sgId);
            const vpc = inputs(ofType(plan(), "aws:ec2/vpc:Vpc")[0]);
            assert.deepEqual(rules.map((r) => [r.ipProtocol, r.fromPort, r.toPort, r.cidrIpv4]), [["tcp", 443, 443, vpc.cidrBlock]]);
        });

        it("the edge role may read where the EIP is (ec2:DescribeAddresses) for the re-check", () => {
            const pol = ofType(plan(), "aws:iam/rolePolicy:RolePolicy").find((p) => /-edge$/.test(p.name))!;
            const doc = JSON.parse(String(inputs(pol).policy)) as { Statement: Json[] };
            assert.ok(doc.Statement.some((s) => [s.Action].flat().includes("ec2:DescribeAddresses")), "DescribeAddresses granted");
        });

        if (stack === "us-east-1") {
            it("the keepalived pair gets eip_recheck.sh from SSM; the apply script installs it, its state dir and its timer", () => {
                const params = ofType(plan(), "aws:ssm/parameter:Parameter").map(inputs);
                const recheck = params.find((p) => String(p.name).endsWith("/edge/eip_recheck.sh"));
                assert.ok(recheck, "eip_recheck.sh parameter");
                assert.match(String(recheck.insecureValue), /describe-addresses --allocation-ids/);
                const conf = params.find((p) => /\/edge\/[^/]+\/keepalived\.conf$/.test(String(p.name)))!;
                assert.match(String(conf.insecureValue), new RegExp(`notify "${EIP_RECHECK_DEFAULTS.path}"`));
                const apply = renderKeepalivedApplyScript({ parameterPrefix: "/ops-center-ha/us-east-1/edge", region: "us-east-1" });
                assert.match(apply, /eip_recheck\.sh/);
                assert.match(apply, /systemctl enable --now ops-eip-recheck\.timer/);
                assert.equal(ofType(plan(), "aws:ec2/eipAssociation:EipAssociation").length, 0, "keepalived moves the EIP; Pulumi never fights it");
            });
        } else {
            it("the single edge host holds the EIP through an association on its instance id", () => {
                const assocs = ofType(plan(), "aws:ec2/eipAssociation:EipAssociation").map(inputs);
                assert.equal(assocs.length, 1);
                const edge0 = ofType(plan(), "aws:ec2/instance:Instance").find((i) => /edge-0$/.test(i.name))!;
                assert.equal(assocs[0].instanceId, edge0.id, "follows the instance: a replacement re-associates");
                assert.match(String(assocs[0].allocationId), /^eipalloc-/, "the edge EIP's allocation (the mock engine's id)");
                assert.equal(assocs[0].allowReassociation, true, "takes the EIP from a host being replaced");
            });
        }
    });
}
