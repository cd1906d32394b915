import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { overlaps, parseCidr } from "../lib/cidr";
import { planNodes, planSubnets, walBucketName, zoneIndex } from "../lib/placement";

describe("planSubnets", () => {
    it("cuts a /16 into public subnets in the first half and private ones in the second", () => {
        assert.deepEqual(planSubnets("10.10.0.0/16", 3), {
            public: ["10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"],
            private: ["10.10.128.0/19", "10.10.160.0/19", "10.10.192.0/19"],
        });
    });

    it("never overlaps, stays inside the VPC, for every allowed prefix and zone count", () => {
        for (let prefix = 16; prefix <= 24; prefix++) {
            for (let zones = 3; zones <= 6; zones++) {
                const vpc = `10.20.0.0/${prefix}`;
                const plan = planSubnets(vpc, zones);
                const all = [...plan.public, ...plan.private].map((c) => parseCidr(c)!);
                assert.equal(all.length, 2 * zones);
                const parent = parseCidr(vpc)!;
                for (const [i, a] of all.entries()) {
                    assert.ok(a.prefix <= 28, `${vpc} x${zones}: /${a.prefix} is below AWS's /28 minimum`);
                    assert.ok(overlaps(a, parent) && a.prefix >= parent.prefix, `${vpc}: subnet outside the VPC`);
                    for (const b of all.slice(i + 1)) assert.ok(!overlaps(a, b), `${vpc} x${zones}: overlapping subnets`);
                }
            }
        }
    });

    it("rejects bad input naming the field", () => {
        assert.throws(() => planSubnets("10.10.0.1/16", 3), /vpcCidr = "10.10.0.1\/16"/);
        assert.throws(() => planSubnets("10.10.0.0/27", 3), /vpcCidr = 10.10.0.0\/27: too small/);
        assert.throws(() => planSubnets("10.10.0.0/16", 0), /azCount = 0/);
    });
});

describe("zone placement", () => {
    it("spreads round robin", () => {
        assert.deepEqual([0, 1, 2, 3, 4].map((i) => zoneIndex(i, 3)), [0, 1, 2, 0, 1]);
        assert.throws(() => zoneIndex(0, 0), /zoneCount = 0/);
    });

    it("plans the primary's hosts: 3 managers in 3 zones, app-0 initialises, edge pair in 2 zones", () => {
        const nodes = planNodes({ edge: { count: 2 }, app: { count: 3 }, data: { count: 3 } }, 3);
        assert.deepEqual(nodes.map((n) => n.hostname), ["edge-0", "edge-1", "app-0", "app-1", "app-2", "data-0", "data-1", "data-2"]);
        const managers = nodes.filter((n) => n.join !== "worker");
        assert.deepEqual(managers.map((n) => [n.hostname, n.join, n.zoneIndex]), [["app-0", "init", 0], ["app-1", "manager", 1], ["app-2", "manager", 2]]);
        assert.deepEqual(nodes.filter((n) => n.role === "edge").map((n) => n.zoneIndex), [0, 1]);
        assert.deepEqual(nodes.filter((n) => n.role === "data").map((n) => n.zoneIndex), [0, 1, 2]);
        assert.equal(nodes.filter((n) => n.join === "init").length, 1);
    });

    it("keeps 3 managers with a bigger app pool, the extra app hosts are workers", () => {
        const nodes = planNodes({ edge: { count: 1 }, app: { count: 5 }, data: { count: 3 } }, 3);
        assert.deepEqual(nodes.filter((n) => n.role === "app").map((n) => n.join), ["init", "manager", "manager", "worker", "worker"]);
    });

    it("refuses fewer than 3 managers or zones", () => {
        assert.throws(() => planNodes({ edge: { count: 1 }, app: { count: 2 }, data: { count: 3 } }, 3), /app pool count = 2/);
        assert.throws(() => planNodes({ edge: { count: 1 }, app: { count: 3 }, data: { count: 3 } }, 2), /zoneCount = 2/);
    });
});

describe("walBucketName", () => {
    it("derives a valid S3 name from project, stack, region and account", () => {
        assert.equal(walBucketName({ project: "ops-center-ha", stack: "us-east-1", region: "us-east-1", accountId: "123456789012" }), "ops-center-ha-us-east-1-wal-123456789012");
        assert.equal(walBucketName({ project: "ops-center-ha", stack: "Prod_A", region: "eu-west-1", accountId: "123456789012" }), "ops-center-ha-prod-a-eu-west-1-wal-123456789012");
    });

    it("stays within 63 characters and keeps long names distinct", () => {
        const a = walBucketName({ project: "a-very-long-project-name-for-testing", stack: "staging-blue-one", region: "ap-southeast-2", accountId: "123456789012" });
        const b = walBucketName({ project: "a-very-long-project-name-for-testing", stack: "staging-blue-two", region: "ap-southeast-2", accountId: "123456789012" });
        for (const n of [a, b]) {
            assert.ok(n.length <= 63, `${n} is ${n.length} characters`);
            assert.match(n, /^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
            assert.ok(n.endsWith("-wal-123456789012"));
        }
        assert.notEqual(a, b);
    });

    it("rejects a bad account id", () => {
        assert.throws(() => walBucketName({ project: "p", stack: "s", region: "us-east-1", accountId: "12" }), /accountId = "12"/);
    });
});
