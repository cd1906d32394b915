/**
 * The plan diff refuses a plan that replaces more than one Swarm manager or more than one data host in one `up`,
 * or that replaces or deletes a protected resource (the engine would stop on it: pulumi/pulumi
 * pkg/resource/deploy/step_generator.go, `new.Protect && old.Protect`; DeleteStep.Apply refuses `old.Protect`)
 * (issue 12 item 2). Pure cases with one changed field each, then the real plan of a change that moves every host.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffPlans, formatDiff } from "../offline/diff";
import type { PlanLike } from "../offline/policyRun";
import { planStack } from "./harness";

type R = PlanLike["resources"][number];
const INSTANCE = "aws:ec2/instance:Instance";
const host = (name: string, role: string, swarm: string, protect = false): R => ({
    urn: `urn:pulumi:s::ops-center-ha::${INSTANCE}::${name}`, type: INSTANCE, name,
    inputs: { subnetId: `subnet-${name}`, instanceType: "t3.large", tags: { role, swarm } },
    ...(protect ? { opts: { protect: true } } : {}),
});
const HOSTS = [host("app-0", "app", "manager"), host("app-1", "app", "manager"), host("app-2", "app", "manager"), host("data-0", "data", "worker"), host("data-1", "data", "worker")];
const plan = (rs: R[]): PlanLike => ({ project: "ops-center-ha", stack: "s", resources: rs });
/** `names` moved to another subnet (subnetId replaces an instance). */
const moved = (rs: R[], ...names: string[]) => rs.map((r) => (names.includes(r.name) ? { ...r, inputs: { ...r.inputs, subnetId: `${r.inputs.subnetId}-new` } } : r));

describe("plan diff: replacements per update", () => {
    it("happy path: one manager replaced is allowed", () => {
        assert.deepEqual(diffPlans(plan(HOSTS), plan(moved(HOSTS, "app-1"))).refused, []);
    });
    it("one manager and one data host are allowed together", () => {
        assert.deepEqual(diffPlans(plan(HOSTS), plan(moved(HOSTS, "app-1", "data-0"))).refused, []);
    });
    it("two managers are refused", () => {
        const d = diffPlans(plan(HOSTS), plan(moved(HOSTS, "app-0", "app-2")));
        assert.deepEqual(d.refused, ["replaces 2 Swarm managers in one update (app-0, app-2): at most 1 (README \"Replacing a host\")"]);
        assert.match(formatDiff(d), /^REFUSED: replaces 2 Swarm managers/m);
    });
    it("two data hosts are refused", () => {
        const d = diffPlans(plan(HOSTS), plan(moved(HOSTS, "data-0", "data-1")));
        assert.deepEqual(d.refused, ["replaces 2 data hosts in one update (data-0, data-1): at most 1 (README \"Replacing a host\")"]);
    });
    it("a protected resource replaced is refused, as the engine would", () => {
        const base = HOSTS.map((h) => (h.name === "app-1" ? host("app-1", "app", "manager", true) : h));
        const d = diffPlans(plan(base), plan(moved(base, "app-1")));
        assert.deepEqual(d.refused, ["app-1 (aws:ec2/instance:Instance) is protected and would be replaced: the engine stops the update (name it in rollHost)"]);
    });
    it("a protected resource deleted is refused", () => {
        const base = [...HOSTS, { ...host("data-2", "data", "worker", true) }];
        const d = diffPlans(plan(base), plan(HOSTS));
        assert.deepEqual(d.refused, ["data-2 (aws:ec2/instance:Instance) is protected and would be deleted: the engine stops the update (README \"Tearing down\")"]);
    });
});

describe("plan diff on the program", () => {
    it("changing the stack's zones would move a data volume out of its zone: refused before it happens", () => {
        const d = diffPlans(planStack("us-east-1"), planStack("us-east-1", { availabilityZones: "us-east-1a,us-east-1b,us-east-1d" }));
        assert.deepEqual(d.refused, ["ops-hosts-data-2-data (aws:ebs/volume:Volume) is protected and would be replaced: the engine stops the update (README \"Tearing down\")"]);
        // (The hosts of the moved zone follow their new subnet's id, which only the real engine knows: the offline
        // plan's ids are stable, so it cannot show those replacements; the engine refuses them, the hosts being protected.)
    });
});
