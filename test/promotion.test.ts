/**
 * Region promotion (issue 10, items 2-6): the standby stack with ONLY `role: primary` flipped must validate and plan,
 * keep its Redis names and volumes, keep the credentials it was built with (never from the primary's stack, never
 * fresh random ones), keep its one SECONDARY failover record, and never need the dead region to drop what lives there.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OfflinePlan, RecordedResource } from "../offline/engine";
import { byName, ofType, planStack, unwrap } from "./harness";
import { dnsFailover } from "../bench/dnsFailover";

const SERVICE = "docker:index/service:Service";
const SECRET = "docker:index/secret:Secret";
const RECORD = "aws:route53/record:Record";
const PROMOTE = { role: "primary" };
let standbyPlan: OfflinePlan | undefined;
let promotedPlan: OfflinePlan | undefined;
const standby = () => (standbyPlan ??= planStack("us-west-2"));
const promoted = () => (promotedPlan ??= planStack("us-west-2", PROMOTE));
const inp = (r: RecordedResource): Record<string, any> => unwrap(r.inputs) as Record<string, any>;
const services = (p: OfflinePlan) => new Map(ofType(p, SERVICE).map((s) => [String(inp(s).name), inp(s)]));
const underCrossRegion = (p: OfflinePlan) => {
    const comp = p.resources.find((r) => r.type === "opscenter:ha:CrossRegion");
    if (!comp) return [];
    const kids = (urn: string): RecordedResource[] => p.resources.filter((r) => r.parent === urn).flatMap((r) => [r, ...kids(r.urn)]);
    return kids(comp.urn);
};

describe("region promotion: one config change", () => {
    it("the standby stack with only role flipped to primary passes validation and plans", () => {
        const p = promoted();
        assert.ok(p.resources.length > 100, `planned ${p.resources.length} resources`);
    });

    it("a stack that never was a standby still needs the primary's sizes (two edge hosts)", () => {
        assert.throws(() => planStack("us-east-1", { edgeNodes: "1" }), /edgeNodes/);
    });
});

describe("region promotion: Redis keeps its data", () => {
    it("every Redis node of the standby keeps its service name and volume when promoted", () => {
        const before = [...services(standby()).entries()].filter(([n]) => /redis-(standby-)?\d+$/.test(n));
        const after = services(promoted());
        assert.ok(before.length >= 1);
        for (const [name, s] of before) {
            const a = after.get(name);
            assert.ok(a, `${name} is gone after promotion: a new service with a new, empty volume`);
            assert.deepEqual(a.taskSpec.containerSpec.mounts, s.taskSpec.containerSpec.mounts, `${name}: same volume`);
            assert.deepEqual(a.taskSpec.placement.constraints, s.taskSpec.placement.constraints, `${name}: same host`);
        }
    });

    it("the promoted region's first Redis node is its master (no replicaof)", () => {
        const p = promoted();
        const conf = p.resources.filter((r) => r.type === "docker:index/serviceConfig:ServiceConfig" && /redis-1-conf/.test(String(inp(r).name)));
        assert.ok(conf.length > 0, "redis-1 config rendered");
        for (const c of conf) assert.doesNotMatch(Buffer.from(String(inp(c).data), "base64").toString(), /^replicaof /m);
    });
});

describe("region promotion: credentials", () => {
    const secretData = (p: OfflinePlan) => new Map(ofType(p, SECRET).map((s) => [String(inp(s).name).replace(/-[0-9a-f]{8,}$/, ""), inp(s).data]));

    it("the standby's passwords are its own secret config, not the primary's stack outputs: no StackReference holds them", () => {
        // The primary's credentials are copied once into the standby's secret config (npm run promote -- copy-credentials).
        const refs = standby().resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
        assert.ok(refs.length <= 1);
        const outs = ofType(standby(), "opscenter:ha:Credentials");
        assert.equal(outs.length, 1);
        assert.equal(ofType(standby(), "random:index/randomPassword:RandomPassword").length, 0);
    });

    it("promotion generates no new password: every Swarm secret keeps its value", () => {
        assert.equal(ofType(promoted(), "random:index/randomPassword:RandomPassword").filter((r) => /credentials/.test(r.name)).length, 0, "no new random passwords");
        const a = secretData(standby());
        const b = secretData(promoted());
        for (const key of ["opscenter-pg-superuser", "opscenter-pg-replication", "opscenter-pg-app", "opscenter-pg-monitor", "opscenter-redis"]) {
            const before = [...a.entries()].find(([n]) => n.startsWith(key))?.[1];
            const after = [...b.entries()].find(([n]) => n.startsWith(key))?.[1];
            assert.ok(before !== undefined, `${key} in the standby`);
            assert.equal(after, before, `${key} unchanged by promotion`);
        }
    });

    it("the promoted stack reads nothing from the primary's stack (it works while that stack is unreachable)", () => {
        assert.equal(promoted().resources.filter((r) => r.type === "pulumi:pulumi:StackReference").length, 0);
    });
});

describe("region promotion: the dead region", () => {
    it("everything the standby owns in (or through) the primary region is retained on delete", () => {
        const kids = underCrossRegion(standby()).filter((r) => !r.type.startsWith("opscenter:"));
        assert.ok(kids.length > 5, `cross-region resources: ${kids.length}`);
        for (const r of kids) assert.equal(r.opts?.retainOnDelete, true, `${r.type} ${r.name} is deleted through the primary region's API on promotion`);
        const provider = standby().resources.find((r) => r.type === "pulumi:providers:aws" && /primary-region/.test(r.name));
        assert.ok(provider);
        assert.equal(String(inp(provider).skipCredentialsValidation), "true", "the primary-region provider does not call STS there to drop what it retains");
    });

    it("the promoted plan has no cross-region resources and no provider for the primary region", () => {
        assert.equal(underCrossRegion(promoted()).length, 0);
        assert.equal(promoted().resources.filter((r) => r.type === "pulumi:providers:aws" && /primary-region/.test(r.name)).length, 0);
    });
});

describe("region promotion: DNS", () => {
    it("the promoted region keeps its SECONDARY failover record, same identifier: never a second PRIMARY", () => {
        const a = inp(byName(standby(), RECORD, "ops-dns-failover"));
        const b = inp(byName(promoted(), RECORD, "ops-dns-failover"));
        assert.deepEqual(b.failoverRoutingPolicies, [{ type: "SECONDARY" }]);
        assert.equal(b.setIdentifier, a.setIdentifier, "same record set: an update, not a replacement");
        assert.equal(ofType(promoted(), "cloudflare:index/record:Record").length + ofType(promoted(), "cloudflare:index/dnsRecord:DnsRecord").length, 0, "no second Cloudflare front");
    });

    it("the region that was built primary keeps PRIMARY", () => {
        const p = planStack("us-east-1");
        assert.deepEqual(inp(byName(p, RECORD, "ops-dns-failover")).failoverRoutingPolicies, [{ type: "PRIMARY" }]);
    });

    it("Route53's part of the end-to-end RTO is read from the plans: the PRIMARY's health check interval x threshold + the records' TTL", () => {
        const d = dnsFailover(planStack("us-east-1"), standby());
        const check = inp(ofType(planStack("us-east-1"), "aws:route53/healthCheck:HealthCheck")[0]);
        assert.equal(d.requestIntervalS, check.requestInterval);
        assert.equal(d.failureThreshold, check.failureThreshold);
        assert.equal(d.ttlS, inp(byName(standby(), RECORD, "ops-dns-failover")).ttl);
        assert.equal(d.totalS, d.requestIntervalS * d.failureThreshold + d.ttlS);
        assert.ok(d.totalS <= 180, `${d.totalS} s of DNS alone`);
        assert.throws(() => dnsFailover(standby(), standby()), /expected one PRIMARY failover record/);
    });
});
