/**
 * Stable on re-apply: the program run a second time with the first run's ids and outputs fed back (the engine's
 * state after the first `up`) registers the same inputs for every resource, and no resource differs from the
 * state its provider stored (the second `up` changes nothing). And a change of the hosts' user data takes no
 * host down, except the one host named by `rollHost`, which is replaced.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { changedProperties } from "../offline/reapply";
import type { OfflinePlan, RecordedResource } from "../offline/engine";
import { planStack, STACKS } from "./harness";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reapply-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The first run of `stack` with state recorded, written where a second run can read it. */
function firstUp(stack: string): { plan: OfflinePlan; file: string } {
    const plan = planStack(stack, {}, { recordState: true });
    const file = path.join(dir, `${stack}.json`);
    fs.writeFileSync(file, JSON.stringify(plan));
    return { plan, file };
}

const custom = (r: RecordedResource) => r.state !== undefined && !r.type.startsWith("pulumi:") && !r.type.startsWith("opscenter:");
const INSTANCE = "aws:ec2/instance:Instance";

/** Resources the next update would change, with the changed properties. */
function changes(before: OfflinePlan, next: OfflinePlan): Record<string, string[]> {
    const old = new Map(before.resources.map((r) => [r.urn, r]));
    const out: Record<string, string[]> = {};
    for (const r of next.resources) {
        const o = old.get(r.urn);
        if (!o || !custom(o)) continue;
        const changed = changedProperties(r.inputs, o.state!, r.opts?.ignoreChanges);
        if (changed.length) out[r.name] = changed;
    }
    return out;
}

for (const stack of STACKS) {
    describe(`re-apply ${stack}`, () => {
        it("the second run, fed the first run's state, registers the same resources with the same inputs", () => {
            const { plan, file } = firstUp(stack);
            const again = planStack(stack, {}, { priorFile: file });
            assert.deepEqual(again.resources.map((r) => r.urn), plan.resources.map((r) => r.urn));
            const differ = again.resources.filter((r, i) => JSON.stringify(r.inputs) !== JSON.stringify(plan.resources[i].inputs)).map((r) => r.name);
            assert.deepEqual(differ, [], "inputs that changed between two runs (random, time-based or order-dependent)");
            assert.deepEqual(again.outputs, plan.outputs);
        });
        it("the second up changes nothing: every input equals what its provider stored", () => {
            const { plan, file } = firstUp(stack);
            assert.deepEqual(changes(plan, planStack(stack, {}, { priorFile: file })), {});
        });
    });
}

describe("a user-data change", () => {
    // The SSH user is written into every host's cloud-init (renderers/cloudInit.ts).
    const change = { sshUser: "opsadmin" };
    it("restarts no host: every instance's user data changes, and every instance ignores it", () => {
        const { plan, file } = firstUp("us-east-1");
        const next = planStack("us-east-1", change, { priorFile: file });
        const hosts = next.resources.filter((r) => r.type === INSTANCE);
        assert.equal(hosts.length, 8);
        const old = new Map(plan.resources.map((r) => [r.urn, r]));
        for (const h of hosts) assert.notEqual(h.inputs.userData, old.get(h.urn)!.inputs.userData, `${h.name}: the change reaches its cloud-init`);
        const hostChanges = Object.entries(changes(plan, next)).filter(([name]) => hosts.some((h) => h.name === name));
        assert.deepEqual(hostChanges, []);
    });
    it("with rollHost, replaces exactly that one host", () => {
        const { plan, file } = firstUp("us-east-1");
        const next = planStack("us-east-1", { ...change, rollHost: "app-1" }, { priorFile: file });
        const hosts = new Set(next.resources.filter((r) => r.type === INSTANCE).map((r) => r.name));
        const hostChanges = Object.entries(changes(plan, next)).filter(([name]) => hosts.has(name));
        assert.deepEqual(hostChanges, [["ops-hosts-app-1", ["userData", "userDataReplaceOnChange"]]]);
        const rolled = next.resources.find((r) => r.name === "ops-hosts-app-1")!;
        assert.equal(rolled.inputs.userDataReplaceOnChange, true, "replaced (new instance id: cloud-init runs the new user data), not stopped and started");
    });
});
