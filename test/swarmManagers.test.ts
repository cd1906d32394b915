/** The Docker provider's choice of a live Swarm manager (lib/swarmManagers.ts): one changed field per case. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HEARTBEAT_MAX_AGE_SECONDS, parseHeartbeat, pickLiveManager, PlannedManager } from "../lib/swarmManagers";

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
