/**
 * HA stack policies, awsguard style: a happy-path primary (and standby) passes, one changed field fails.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { haEtcdQuorum, haPatroniTiming, haReservationsFit, haRollingUpdateRoom, haSentinelQuorum, haStandbyRedisNeverPromoted, haTiersPresent, haWebReplicas } from "../policies/stack";
import { TYPES } from "../policies/support";
import { runStack, StackResource, withField } from "./support/policyArgs";

const one = (out: unknown, re: RegExp) => assert.ok(Array.isArray(out) && out.length === 1 && re.test(out[0]), `got ${JSON.stringify(out)}`);
const b64 = (s: string) => Buffer.from(s).toString("base64");
const CPU = 1e9;
const GiB = 1024 ** 3;

function svc(name: string, image: string, extra: Record<string, unknown> = {}): StackResource {
    return { type: TYPES.service, name, props: { name: `opscenter-${name}`, mode: { replicated: { replicas: 1 } }, taskSpec: { containerSpec: { image }, placement: { constraints: [] } }, ...extra } };
}
const host = (hostname: string, role: string, instanceType: string): StackResource => ({
    type: TYPES.instance, name: `ops-hosts-${hostname}`, props: { instanceType, userData: `#cloud-config\nhostname: ${hostname}\n`, tags: { Name: `ops-hosts-${hostname}`, role, ...(role === "app" ? { swarm: "manager" } : {}) } },
});
const web = (name: string, replicas: number, cpu: number) =>
    svc(name, `kubeworkz/ops_center:${name}-1.4.2`, {
        mode: { replicated: { replicas } },
        updateConfig: { order: "start-first" },
        taskSpec: { containerSpec: { image: "kubeworkz/ops_center:1.4.2" }, placement: { constraints: ["node.labels.role==app"], maxReplicas: 1 }, resources: { reservation: { nanoCpus: cpu * CPU, memoryBytes: GiB / 4 }, limits: { nanoCpus: 2 * cpu * CPU, memoryBytes: GiB / 2 } } },
    });
const spilo = (n: number, dcs = "ttl: 20\n    loop_wait: 2\n    retry_timeout: 5") =>
    svc(`pg-${n}`, "ghcr.io/zalando/spilo-17:4.0-p2", {
        taskSpec: {
            containerSpec: { image: "ghcr.io/zalando/spilo-17:4.0-p2", env: { SPILO_CONFIGURATION: `bootstrap:\n  dcs:\n    ${dcs}\n` } },
            placement: { constraints: ["node.labels.role==data", `node.hostname==data-${n - 1}`] },
            resources: { reservation: { nanoCpus: 2 * CPU, memoryBytes: 4 * GiB }, limits: { nanoCpus: 4 * CPU, memoryBytes: 8 * GiB } },
        },
    });
const etcd = (n: number) => svc(`etcd-${n}`, "quay.io/coreos/etcd:v3.5.17", { taskSpec: { containerSpec: { image: "quay.io/coreos/etcd:v3.5.17" }, placement: { constraints: [`node.hostname==data-${n - 1}`] } } });
const conf = (name: string, text: string): StackResource => ({ type: TYPES.serviceConfig, name, props: { name: `opscenter-${name}`, data: b64(text) } });

/** A primary region as the program should build it (3 app hosts of 4 vCPU so a start-first update has room). */
function primary(): StackResource[] {
    return [
        { type: TYPES.vpc, name: "vpc", props: { tags: { role: "primary" } } },
        { type: TYPES.bucket, name: "wal", props: { bucket: "wal" } },
        ...["app-0", "app-1", "app-2", "app-3"].map((h) => host(h, "app", "t3.xlarge")),
        ...["data-0", "data-1", "data-2"].map((h) => host(h, "data", "r6i.xlarge")),
        host("edge-0", "edge", "t3.small"),
        web("frontend", 3, 0.25), web("backend-blue", 3, 1), web("backend-green", 3, 1),
        svc("traefik", "traefik:v3.1.7"), spilo(1), spilo(2), spilo(3), etcd(1), etcd(2), etcd(3), svc("postgres-router", "haproxy:2.8.11"),
        svc("redis-1", "redis:7.2.6-alpine"), svc("redis-2", "redis:7.2.6-alpine"), svc("redis-3", "redis:7.2.6-alpine"),
        svc("redis-sentinel-1", "redis:7.2.6-alpine"), svc("redis-sentinel-2", "redis:7.2.6-alpine"), svc("redis-sentinel-3", "redis:7.2.6-alpine"),
        svc("prometheus", "prom/prometheus:v2.55.1"), svc("alertmanager", "prom/alertmanager:v0.27.0"),
        conf("sentinel-1-conf", "port 26379\nsentinel monitor opscenter 10.10.20.11 6379 2\n"),
    ];
}
/** A standby region: one Redis replica with priority 0, no sentinels. */
function standby(): StackResource[] {
    return [
        { type: TYPES.vpc, name: "vpc", props: { tags: { role: "standby" } } },
        ...primary().filter((r) => !/sentinel|redis-[23]|vpc/.test(r.name)),
        conf("redis-standby-1-conf", "port 6379\nreplica-priority 0\nreplicaof 10.10.20.11 6379\n"),
    ];
}
const replace = (rs: StackResource[], name: string, path: string, value: unknown) => rs.map((r) => (r.name === name ? { ...r, props: withField(r.props, path, value) } : r));

describe("HA stack policies", () => {
    for (const p of [haTiersPresent, haPatroniTiming, haSentinelQuorum, haWebReplicas, haReservationsFit, haRollingUpdateRoom, haEtcdQuorum]) {
        it(`${p.name}: the happy-path primary passes`, async () => assert.deepEqual(await runStack(p, primary()), []));
    }
    it("ha-tiers-present: a primary without sentinels fails", async () => {
        const out = await runStack(haTiersPresent, primary().filter((r) => !/sentinel-3/.test(r.name)));
        one(out, /sentinel has 2/);
    });
    it("ha-tiers-present: a primary with two Patroni members fails (issue 10: a double failure needs the third)", async () => {
        one(await runStack(haTiersPresent, primary().filter((r) => r.name !== "pg-3")), /primary stack: tier postgres has 2 service\(s\), needs at least 3/);
    });
    it("ha-tiers-present: a standby with two Patroni members passes (what its hosts fit decides)", async () => {
        assert.deepEqual(await runStack(haTiersPresent, standby().filter((r) => r.name !== "pg-3")), []);
    });
    it("ha-tiers-present: a standby needs no sentinels", async () => assert.deepEqual(await runStack(haTiersPresent, standby()), []));
    it("ha-tiers-present: not applicable when nothing states the role", async () => assert.equal(await runStack(haTiersPresent, primary().filter((r) => r.name !== "vpc" && r.type !== TYPES.bucket)), "not-applicable"));
    it("ha-patroni-timing: loop_wait + 2 x retry_timeout > ttl fails", async () => {
        const out = await runStack(haPatroniTiming, primary().map((r) => (r.name === "pg-1" ? spilo(1, "ttl: 20\n    loop_wait: 10\n    retry_timeout: 10") : r)));
        one(out, /loop_wait 10 \+ 2 x retry_timeout 10 > ttl 20/);
    });
    it("ha-patroni-timing: a ttl below Patroni 4's floor fails", async () => {
        one(await runStack(haPatroniTiming, primary().map((r) => (r.name === "pg-2" ? spilo(2, "ttl: 10\n    loop_wait: 2\n    retry_timeout: 4") : r))), /below 20/);
    });
    it("ha-sentinel-quorum: a quorum of 1 of 3 fails", async () => {
        one(await runStack(haSentinelQuorum, primary().map((r) => (r.name === "sentinel-1-conf" ? conf("sentinel-1-conf", "sentinel monitor opscenter 10.10.20.11 6379 1\n") : r))), /not a majority/);
    });
    it("ha-sentinel-quorum: an even number of sentinels fails", async () => {
        const four = [...primary(), svc("redis-sentinel-4", "redis:7.2.6-alpine")];
        one(await runStack(haSentinelQuorum, four.map((r) => (r.name === "sentinel-1-conf" ? conf("sentinel-1-conf", "sentinel monitor opscenter h 6379 3\n") : r))), /4 sentinels/);
    });
    it("ha-standby-redis-never-promoted: a priority-0 replica passes; not applicable in a primary", async () => {
        assert.deepEqual(await runStack(haStandbyRedisNeverPromoted, standby()), []);
        assert.equal(await runStack(haStandbyRedisNeverPromoted, primary()), "not-applicable");
    });
    it("ha-standby-redis-never-promoted: replica-priority 100 fails", async () => {
        one(await runStack(haStandbyRedisNeverPromoted, standby().map((r) => (r.name === "redis-standby-1-conf" ? conf(r.name, "replica-priority 100\nreplicaof 10.10.20.11 6379\n") : r))), /must be 0/);
    });
    it("ha-standby-redis-never-promoted: a standby Redis without replicaof fails", async () => {
        one(await runStack(haStandbyRedisNeverPromoted, standby().map((r) => (r.name === "redis-standby-1-conf" ? conf(r.name, "port 6379\nreplica-priority 0\n") : r))), /a master in the standby/);
    });
    it("ha-web-replicas: one frontend replica in a primary fails", async () => one(await runStack(haWebReplicas, replace(primary(), "frontend", "mode.replicated.replicas", 1)), /1 replica\(s\)/));
    it("ha-web-replicas: no maxReplicas (preferences only) fails", async () => one(await runStack(haWebReplicas, replace(primary(), "backend-blue", "taskSpec.placement.maxReplicas", undefined)), /no hard anti-affinity/));
    it("ha-web-replicas: a standby's single replica is fine", async () => assert.equal(await runStack(haWebReplicas, standby()), "not-applicable"));
    it("ha-reservations-fit: 2.25 CPU of reservations on a 2-vCPU t3.large fails (issue 8)", async () => {
        const out = await runStack(haReservationsFit, primary().map((r) => (r.type === TYPES.instance && r.name.includes("app") ? { ...r, props: withField(r.props, "instanceType", "t3.large") } : r)));
        assert.ok(Array.isArray(out) && out.length === 4 && out.every((m) => /need 2.25 CPU/.test(m)), JSON.stringify(out));
    });
    it("ha-reservations-fit: a 4-CPU limit on a 2-vCPU r6i.large data host fails (issue 8)", async () => {
        const out = await runStack(haReservationsFit, replace(primary(), "ops-hosts-data-0", "instanceType", "r6i.large"));
        one(out, /opscenter-pg-1: CPU limit 4 exceeds host data-0 \(r6i.large, 2 vCPU\)/);
    });
    it("ha-reservations-fit: an instance type missing from the table is reported", async () => one(await runStack(haReservationsFit, replace(primary(), "ops-hosts-edge-0", "instanceType", "x9.huge")), /not in lib\/instanceTypes.ts/));
    it("ha-rolling-update-room: 3 replicas, maxReplicas 1 on exactly 3 app hosts fails (issue 8)", async () => {
        const three = primary().filter((r) => r.name !== "ops-hosts-app-3");
        const out = await runStack(haRollingUpdateRoom, three);
        assert.ok(Array.isArray(out) && out.length === 3 && out.every((m) => /never places and the update stalls/.test(m)), JSON.stringify(out));
    });
    it("ha-etcd-quorum: two etcd members fail; two on one host fail", async () => {
        one(await runStack(haEtcdQuorum, primary().filter((r) => r.name !== "etcd-3")), /2 etcd members/);
        one(await runStack(haEtcdQuorum, replace(primary(), "etcd-2", "taskSpec.placement.constraints", ["node.hostname==data-0"])), /distinct host/);
    });
});
