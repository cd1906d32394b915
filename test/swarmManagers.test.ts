/** The Docker provider's choice of a live Swarm manager (lib/swarmManagers.ts): one changed field per case. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseManager, HEARTBEAT_MAX_AGE_SECONDS, parseHeartbeat, pickLiveManager, PlannedManager } from "../lib/swarmManagers";

const NOW = 1_700_000_000;
const managers: PlannedManager[] = [
    { hostname: "app-0", instanceId: "i-0aaaaaaaaaaaaaaa0", privateIp: "10.10.128.10" },
    { hostname: "app-1", instanceId: "i-0bbbbbbbbbbbbbbb1", privateIp: "10.10.160.10" },
    { hostname: "app-2", instanceId: "i-0ccccccccccccccc2", privateIp: "10.10.192.10" },
];
const beat = (m: PlannedManager, at = NOW - 30, instance = m.instanceId) => `addr=${m.privateIp} instance=${instance} at=${at}`;
const allLive = () => Object.fromEntries(managers.map((m) => [m.hostname, beat(m)]));

describe("pickLiveManager", () => {
    it("happy path: app-0 when every manager is live", () => {
        assert.equal(pickLiveManager(managers, allLive(), NOW)?.hostname, "app-0");
    });
    it("app-0 silent (dead): the next live manager", () => {
        assert.equal(pickLiveManager(managers, { ...allLive(), "app-0": undefined }, NOW)?.hostname, "app-1");
    });
    it("app-0's heartbeat too old: skipped", () => {
        const h = { ...allLive(), "app-0": beat(managers[0], NOW - HEARTBEAT_MAX_AGE_SECONDS - 1) };
        assert.equal(pickLiveManager(managers, h, NOW)?.hostname, "app-1");
    });
    it("app-0's heartbeat from the instance it replaced: skipped", () => {
        const h = { ...allLive(), "app-0": beat(managers[0], NOW - 10, "i-0dddddddddddddddd") };
        assert.equal(pickLiveManager(managers, h, NOW)?.hostname, "app-1");
    });
    it("no live manager: undefined", () => {
        assert.equal(pickLiveManager(managers, {}, NOW), undefined);
    });
    it("parses only the published form", () => {
        assert.deepEqual(parseHeartbeat("addr=10.0.0.1 instance=i-0abc12345 at=1700000000"), { addr: "10.0.0.1", instance: "i-0abc12345", at: 1700000000 });
        assert.equal(parseHeartbeat("10.0.0.1"), undefined);
    });
});

describe("chooseManager: upgrading a stack deployed before the per-manager heartbeats", () => {
    const [app0, app1] = managers;
    it("happy path: a live heartbeat wins over the legacy parameter", () => {
        assert.deepEqual(chooseManager(managers, allLive(), app1.instanceId, NOW), { manager: app0, source: "heartbeat" });
    });
    it("only the legacy manager-instance-id (old managers, no heartbeat at all): that manager, at once", () => {
        assert.deepEqual(chooseManager(managers, {}, app0.instanceId, NOW), { manager: app0, source: "legacy" });
    });
    it("legacy parameter naming a manager that has a heartbeat entry (stale: a current stack's dead app-0): not used", () => {
        assert.equal(chooseManager(managers, { "app-0": beat(app0, NOW - HEARTBEAT_MAX_AGE_SECONDS - 1) }, app0.instanceId, NOW), undefined);
    });
    it("legacy parameter naming an instance this stack no longer runs (a replaced app-0): not used", () => {
        assert.equal(chooseManager(managers, {}, "i-0dddddddddddddddd", NOW), undefined);
    });
    it("one manager already rolled (live heartbeat), the others old: the rolled one", () => {
        assert.deepEqual(chooseManager(managers, { "app-1": beat(app1) }, app0.instanceId, NOW), { manager: app1, source: "heartbeat" });
    });
    it("neither heartbeats nor the legacy parameter: undefined", () => {
        assert.equal(chooseManager(managers, {}, undefined, NOW), undefined);
    });
});
