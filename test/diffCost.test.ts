/**
 * The offline plan diff, the cost and the PR comment: pure functions on plan JSON.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { costOfPlan, formatCost } from "../offline/cost";
import { changedPaths, diffPlans, formatDiff } from "../offline/diff";
import { commentMarker, prComment } from "../offline/prComment";
import type { PlanLike, PolicyReport } from "../offline/policyRun";
import { PRICES } from "../offline/prices";
import { REPLACE_ON_CHANGE } from "../offline/replaceOnChange";
import { planStack } from "./harness";

type R = PlanLike["resources"][number];
const res = (type: string, name: string, inputs: Record<string, unknown>, extra: Partial<R> = {}): R => ({ urn: `urn:pulumi:s::ops-center-ha::${type}::${name}`, type, name, inputs, ...extra });
const plan = (...resources: R[]): PlanLike => ({ project: "ops-center-ha", stack: "s", resources });

const host = res("aws:ec2/instance:Instance", "data-0", { ami: "ami-1", instanceType: "r6i.xlarge", userData: "#cloud-config\n", rootBlockDevice: { volumeSize: 40 }, tags: { role: "data" } }, { opts: { ignoreChanges: ["ami"] } });
const pg = res("docker:index/service:Service", "pg-1", { name: "opscenter-pg-1", taskSpec: { containerSpec: { image: "ghcr.io/zalando/spilo-17:4.0-p2", env: { PGVERSION: "16" } } } });
const web = res("docker:index/service:Service", "frontend", { name: "opscenter-frontend", labels: [{ label: "a", value: "1" }, { label: "b", value: "2" }], taskSpec: { containerSpec: { image: "fe:1" } } });
const bucket = res("aws:s3/bucket:Bucket", "wal", { bucket: "wal-1" });
const secret = res("docker:index/secret:Secret", "pg-admin", { name: "opscenter-pg-admin-1", data: "[secret]" });
const base = plan(host, pg, web, bucket, secret);
const edit = (r: R, inputs: Record<string, unknown>) => ({ ...r, inputs: { ...r.inputs, ...inputs } });

describe("offline plan diff", () => {
    it("no change: everything unchanged", () => {
        const d = diffPlans(base, base);
        assert.deepEqual(d.changes, []);
        assert.equal(d.unchanged, 5);
    });
    it("an in-place input change is an update naming the input", () => {
        const d = diffPlans(base, plan(host, pg, edit(web, { taskSpec: { containerSpec: { image: "fe:2" } } }), bucket, secret));
        assert.equal(d.changes.length, 1);
        assert.equal(d.changes[0].kind, "update");
        assert.deepEqual(d.changes[0].properties.map((p) => p.path), ["taskSpec.containerSpec.image"]);
    });
    it("a replace-on-change input is a replacement, and a stateful one is flagged first", () => {
        const d = diffPlans(base, plan(host, edit(pg, { name: "opscenter-pg-one" }), edit(web, { name: "opscenter-fe" }), bucket, secret));
        assert.deepEqual(d.changes.map((c) => [c.name, c.kind, c.flagged]), [["pg-1", "replace", true], ["frontend", "replace", false]]);
        assert.deepEqual(d.changes[0].replaceBecause, ["name"]);
        assert.match(formatDiff(d, true), /\x1b\[31;1m1 STATEFUL resource\(s\) would be replaced or deleted/);
    });
    it("user data: an in-place stop/start unless userDataReplaceOnChange; ignoreChanges hides ami", () => {
        const d = diffPlans(base, plan(edit(host, { ami: "ami-2", userData: "#cloud-config\nx: 1\n" }), pg, web, bucket, secret));
        assert.equal(d.changes[0].kind, "update");
        assert.deepEqual(d.changes[0].properties.map((p) => p.path), ["userData"]);
        const r = diffPlans(base, plan(edit(host, { userData: "#cloud-config\nx: 1\n", userDataReplaceOnChange: true }), pg, web, bucket, secret));
        assert.equal(r.changes[0].kind, "replace");
        assert.ok(r.changes[0].flagged, "a host is stateful");
    });
    it("created and deleted resources; a deleted bucket is flagged", () => {
        const extra = res("aws:ec2/eip:Eip", "edge", { domain: "vpc" });
        const d = diffPlans(base, plan(host, pg, web, secret, extra));
        assert.deepEqual(d.changes.map((c) => [c.kind, c.name, c.flagged]), [["delete", "wal", true], ["create", "edge", false]]);
    });
    it("docker labels compare by label, not by position", () => {
        assert.deepEqual(changedPaths(web.inputs, { ...web.inputs, labels: [{ label: "b", value: "2" }, { label: "a", value: "1" }] }), []);
        assert.deepEqual(changedPaths(web.inputs, { ...web.inputs, labels: [{ label: "a", value: "9" }, { label: "b", value: "2" }] }).map((p) => p.path), ['labels.a']);
    });
    it("secrets never appear: redacted values stay [secret], secret-named keys are masked", () => {
        const d = diffPlans(base, plan(host, edit(pg, { taskSpec: { containerSpec: { image: "ghcr.io/zalando/spilo-17:4.0-p2", env: { PGVERSION: "16", PGPASSWORD_SUPERUSER: "hunter2-plain" } } } }), web, bucket, edit(secret, { data: "[secret]", name: "opscenter-pg-admin-2" })));
        const text = formatDiff(d);
        assert.ok(!text.includes("hunter2"), text);
        assert.match(text, /PGPASSWORD_SUPERUSER: \(unset\) => \[secret\]/);
        assert.match(text, /\+- replace docker:index\/secret:Secret pg-admin/);
    });
    it("the replace table names a source for every type and covers every type both stacks register", () => {
        for (const [t, r] of Object.entries(REPLACE_ON_CHANGE)) assert.match(r.source, /terraform-provider-(aws|docker|random)/, t);
        for (const stack of ["us-east-1", "us-west-2"]) {
            const types = new Set(planStack(stack).resources.map((r) => r.type).filter((t) => !/^(opscenter:|pulumi:)/.test(t)));
            assert.deepEqual([...types].filter((t) => !REPLACE_ON_CHANGE[t]), [], stack);
        }
    });
});

const policy = (n: number): PolicyReport => ({
    pack: "ops-center-ha-policies", version: "0.1.0", stack: "s", evaluated: 40, exempt: [], unusedExemptions: [], notApplicable: {},
    findings: Array.from({ length: n }, (_, i) => ({ policy: "swarm-healthcheck", level: "mandatory" as const, policyLevel: "mandatory" as const, urn: `urn:pulumi:s::p::t::svc-${i}`, message: `d\nservice svc-${i}: no health check` })),
});

describe("cost", () => {
    it("prices EC2 by type and region, EBS, NAT, public IPv4, Route53 features and alarms", () => {
        const p = plan(
            host,
            res("aws:ec2/instance:Instance", "edge-0", { instanceType: "t3.small", associatePublicIpAddress: true, rootBlockDevice: { volumeSize: 40 } }),
            res("aws:ec2/natGateway:NatGateway", "nat", {}),
            res("aws:ec2/eip:Eip", "nat", {}),
            res("aws:ec2/eip:Eip", "edge", {}),
            res("aws:route53/record:Record", "r", { failoverRoutingPolicies: [{ type: "PRIMARY" }], ttl: 60 }),
            res("aws:route53/healthCheck:HealthCheck", "hc", { type: "HTTPS", requestInterval: 10, ipAddress: "203.0.113.1" }),
            res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", {}),
        );
        const c = costOfPlan(p, "us-east-1");
        const line = (item: RegExp) => c.lines.find((l) => item.test(l.item))!;
        assert.equal(line(/^r6i.xlarge/).monthly, Math.round(0.252 * 730 * 100) / 100);
        assert.equal(line(/gp3/).quantity, 80);
        assert.equal(line(/NAT gateways/).monthly, 32.85);
        assert.equal(line(/public IPv4/).quantity, 2 * 730, "2 EIPs; the edge host holding the EIP gives up its own");
        assert.equal(line(/options: HTTPS, 10 s interval/).monthly, 2);
        assert.equal(line(/alarms/).monthly, 0.1);
        assert.equal(c.total, Math.round(c.lines.reduce((s, l) => s + l.monthly, 0) * 100) / 100);
        assert.match(formatCost(c), /Assumptions:\n- 730 hours/);
        assert.ok(PRICES.source.length >= 5);
    });
    it("each Patroni replica's stream between zones is priced: $0.01/GB out and in, one stream per member after the first", () => {
        const member = (i: number) => res("docker:index/service:Service", `pg-${i}`, { name: `opscenter-pg-${i}` });
        const three = costOfPlan(plan(host, member(1), member(2), member(3), web), "us-east-1");
        const line = three.lines.find((l) => /Postgres replication between zones/.test(l.item));
        assert.ok(line, three.lines.map((l) => l.item).join(" | "));
        assert.equal(line.quantity, 2 * 100, "2 replicas x 100 GB of WAL a month");
        assert.equal(line.unitPrice, 0.02);
        assert.equal(line.monthly, 4);
        assert.ok(three.assumptions.some((a) => /3 Patroni members: 2 replicas each receive the 100 GB\/month of WAL from another zone/.test(a)), three.assumptions.join(" | "));
        const two = costOfPlan(plan(host, member(1), member(2), web), "us-east-1");
        assert.equal(two.lines.find((l) => /between zones/.test(l.item))!.monthly, 2);
    });
    it("an instance type without a price is said, not silently zero", () => {
        const c = costOfPlan(plan(edit(host, { instanceType: "x9.huge" })), "us-east-1");
        assert.ok(c.assumptions.some((a) => /NO PRICE for x9.huge/.test(a)));
    });
    it("both stacks: the primary costs more than the standby and every instance type has a price", () => {
        const e = costOfPlan(planStack("us-east-1") as PlanLike, "us-east-1");
        const w = costOfPlan(planStack("us-west-2") as PlanLike, "us-west-2");
        assert.ok(e.total > w.total && w.total > 0, `${e.total} ${w.total}`);
        for (const c of [e, w]) assert.ok(!c.assumptions.some((a) => a.startsWith("NO PRICE")));
    });
    it("both stacks: the data hosts' own EBS volumes (aws:ebs/volume:Volume) are priced with the root volumes", () => {
        for (const stack of ["us-east-1", "us-west-2"]) {
            const p = planStack(stack);
            const gbOf = (t: string, f: (i: Record<string, any>) => number) => p.resources.filter((r) => r.type === t).reduce((s, r) => s + f(r.inputs as Record<string, any>), 0);
            const volumes = gbOf("aws:ebs/volume:Volume", (i) => Number(i.size));
            const roots = gbOf("aws:ec2/instance:Instance", (i) => Number(i.rootBlockDevice?.volumeSize ?? 8));
            assert.ok(volumes > 0, `${stack}: no data volume in the plan`);
            const ebs = costOfPlan(p as PlanLike, stack).lines.filter((l) => l.category === "EBS").reduce((s, l) => s + l.quantity, 0);
            assert.equal(ebs, roots + volumes, stack);
        }
    });
});

describe("PR comment", () => {
    const c0 = costOfPlan(base, "us-east-1");
    const c1 = costOfPlan(plan(host, pg, web, secret, edit(host, { instanceType: "r6i.2xlarge" })), "us-east-1");
    it("has the stack's marker, the counts, the flagged changes, the policy result and the cost change", () => {
        const d = diffPlans(base, plan(host, edit(pg, { name: "x" }), web, secret));
        const md = prComment({ stack: "s", baseRef: "main", diff: d, policy: policy(2), costBefore: c0, costAfter: c1 });
        assert.ok(md.startsWith(commentMarker("s")));
        assert.match(md, /\*\*0 to create, 0 to update, 1 to replace, 1 to delete\*\*/);
        assert.match(md, /\[!CAUTION\][\s\S]*`replace` docker:index\/service:Service \*\*pg-1\*\*/);
        assert.match(md, /❌ `swarm-healthcheck` \(mandatory\): 2 violation/);
        assert.match(md, /\| \*\*total\*\* \| \*\*\$[\d.]+\*\* \| \*\*\$[\d.]+\*\* \| \*\*\+\$[\d.]+\*\* \|/);
        assert.match(md, /<details><summary>/);
    });
    it("stays under 60,000 characters by cutting the details from the end; the summary stays", () => {
        const big = policy(5000);
        const md = prComment({ stack: "s", baseRef: "main", diff: diffPlans(base, base), policy: big, costBefore: c0, costAfter: c0 });
        assert.ok(md.length <= 60_000, `${md.length}`);
        assert.match(md, /5000 mandatory/);
        assert.match(md, /more line\(s\) cut to stay under 60000 characters/);
        assert.match(md, /svc-0: no health check/);
        assert.ok(!md.includes("svc-4999:"));
    });
});
