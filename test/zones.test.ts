/**
 * Zones are chosen once and kept (issue 12 item 12): the stack's `availabilityZones` list places every subnet and
 * host, so a zone AWS reports as impaired (or any change of what DescribeAvailabilityZones returns) moves nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ofType, planStack, PlanFailed } from "./harness";

const placement = (stack: string, impairedZones: string[] = []) => {
    const plan = planStack(stack, {}, impairedZones.length ? { impairedZones } : {});
    return Object.fromEntries(
        ofType(plan, "aws:ec2/subnet:Subnet").map((s) => [s.name, `${s.inputs.availabilityZone} ${s.inputs.cidrBlock}`]),
    );
};

describe("availability zones", () => {
    it("an impaired zone in the region's zone list shifts no subnet", () => {
        const healthy = placement("us-east-1");
        assert.equal(Object.keys(healthy).length, 6);
        assert.deepEqual(placement("us-east-1", ["us-east-1a"]), healthy);
    });
    it("every subnet is in a zone the stack lists", () => {
        for (const [name, where] of Object.entries(placement("us-west-2"))) {
            assert.match(where, /^us-west-2[abc] /, name);
        }
    });
    it("a listed zone the region does not have is refused, naming the key", () => {
        assert.throws(() => planStack("us-east-1", { availabilityZones: "us-east-1a,us-east-1b,us-east-1z" }), (e: unknown) =>
            e instanceof PlanFailed && /availabilityZones = "us-east-1a,us-east-1b,us-east-1z": us-east-1z is not a zone of this region \(it has us-east-1a, us-east-1b, us-east-1c, us-east-1d\)/.test(e.message));
    });
});
