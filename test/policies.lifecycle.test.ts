/**
 * Day-2 policies (issue 12 items 2 and 11), awsguard style: the happy path passes, each failing case changes one
 * field. `swarm-hosts-roll-one-at-a-time` bounds what one update can replace (the engine refuses to replace a
 * protected resource); `data-stores-protected` keeps keys, buckets and data volumes out of any delete.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { swarmHostsRollOneAtATime } from "../policies/compute";
import { dataStoresProtected } from "../policies/storage";
import { TYPES } from "../policies/support";
import { runResource, runStack, StackResource } from "./support/policyArgs";

/** The hosts as the program registers them: all protected but the one rollHost (here none). */
function happyHosts(): StackResource[] {
    const host = (name: string, role: string, swarm: string): StackResource => ({ type: TYPES.instance, name, props: { tags: { role, swarm } }, opts: { protect: true } });
    return [
        host("edge-0", "edge", "worker"), host("edge-1", "edge", "worker"),
        host("app-0", "app", "manager"), host("app-1", "app", "manager"), host("app-2", "app", "manager"),
        host("data-0", "data", "worker"), host("data-1", "data", "worker"), host("data-2", "data", "worker"),
    ];
}
const unprotect = (rs: StackResource[], ...names: string[]) => rs.map((r) => (names.includes(r.name) ? { ...r, opts: { protect: false } } : r));

describe("swarm-hosts-roll-one-at-a-time", () => {
    it("happy path: every host protected", async () => {
        assert.deepEqual(await runStack(swarmHostsRollOneAtATime, happyHosts()), []);
    });
    it("one rolling manager (rollHost) passes", async () => {
        assert.deepEqual(await runStack(swarmHostsRollOneAtATime, unprotect(happyHosts(), "app-1")), []);
    });
    it("one rolling data host passes", async () => {
        assert.deepEqual(await runStack(swarmHostsRollOneAtATime, unprotect(happyHosts(), "data-0")), []);
    });
    it("two unprotected managers fail", async () => {
        const out = await runStack(swarmHostsRollOneAtATime, unprotect(happyHosts(), "app-0", "app-2"));
        assert.equal(out.length, 1);
        assert.match(String(out), /2 Swarm managers are unprotected \(app-0, app-2\).*Raft quorum; at most 1/);
    });
    it("two unprotected data hosts fail", async () => {
        const out = await runStack(swarmHostsRollOneAtATime, unprotect(happyHosts(), "data-1", "data-2"));
        assert.match(String(out), /2 data hosts are unprotected \(data-1, data-2\).*every copy of the data; at most 1/);
    });
    it("unprotected edge hosts are not its business", async () => {
        assert.deepEqual(await runStack(swarmHostsRollOneAtATime, unprotect(happyHosts(), "edge-0", "edge-1")), []);
    });
});

describe("data-stores-protected", () => {
    for (const type of [TYPES.kmsKey, TYPES.bucket, "aws:ebs/volume:Volume"]) {
        it(`${type}: protected passes`, async () => {
            assert.deepEqual(await runResource(dataStoresProtected, { type, props: {}, name: "x", opts: { protect: true } }), []);
        });
        it(`${type}: unprotected fails`, async () => {
            const out = await runResource(dataStoresProtected, { type, props: {}, name: "x", opts: { protect: false } });
            assert.equal(out.length, 1);
            assert.match(String(out), /x is not protected: a destroy, rename or replacing change would delete it/);
        });
    }
    it("other types: not applicable", async () => {
        assert.equal(await runResource(dataStoresProtected, { type: TYPES.instance, props: {} }), "not-applicable");
    });
});
