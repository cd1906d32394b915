/**
 * The fit check (lib/fit.ts) on its own, on both stacks' registered services against their registered EC2 hosts,
 * and in the config validator: a config whose tasks cannot start, schedule or roll is rejected with its keys.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkFit, FitHost, fitServiceFromArgs, FitService, reservedPerHost, resources, ServiceArgsJson } from "../lib/fit";
import { INSTANCE_TYPES } from "../lib/instanceTypes";
import { demandHosts, demandServices } from "../lib/swarmDemand";
import { ConfigError, validateConfig } from "../config/validate";
import { OfflinePlan } from "../offline/engine";
import { readStackConfig } from "../offline/engine";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ofType, planStack, ROOT, STACKS, unwrap } from "./harness";

const GiB = 1024 ** 3;
const host = (hostname: string, role: string, cpus: number, memGiB: number, manager = false): FitHost => ({ hostname, labels: { role }, manager, cpus, memoryBytes: memGiB * GiB });
/** A happy-path plan: three 4-vCPU app hosts, one web tier of 3 replicas capped one per node, stop-first. */
const hosts = () => [0, 1, 2].map((i) => host(`app-${i}`, "app", 4, 16));
const web = (over: Partial<FitService> = {}): FitService => ({
    name: "web",
    mode: "replicated",
    replicas: 3,
    constraints: ["node.labels.role==app"],
    maxReplicas: 1,
    limit: resources(2, "2G"),
    reservation: resources(1, "1G"),
    update: { order: "stop-first", parallelism: 1 },
    rollback: { order: "stop-first", parallelism: 1 },
    ...over,
});
const kinds = (h: FitHost[], s: FitService[]) => checkFit(h, s).map((p) => p.kind);

describe("fit check: one rule per failing case", () => {
    it("the happy path fits", () => assert.deepEqual(checkFit(hosts(), [web()]), []));
    it("a CPU limit above the host's CPUs (Docker refuses the container)", () => {
        const p = checkFit([host("data-0", "data", 2, 16)], [web({ replicas: 1, constraints: ["node.labels.role==data"], limit: resources(4, "8G"), reservation: resources(2, "4G") })]);
        assert.deepEqual(p.map((x) => x.kind), ["limit", "host-reservations"].slice(0, 1).concat(p.length > 1 ? ["host-reservations"] : []));
        assert.match(p[0].message, /CPU limit 4 exceeds host data-0 \(2 vCPUs/);
        assert.match(p[0].message, /Range of CPUs is from 0\.01 to 2\.00/);
    });
    it("reservations of the tasks that can land on a host above its CPUs (2.25 on 2)", () => {
        const small = [0, 1, 2].map((i) => host(`app-${i}`, "app", 2, 8));
        const p = checkFit(small, [web({ name: "frontend", reservation: resources(0.25, "256M"), limit: resources(0.5, "512M") }), web({ name: "blue" }), web({ name: "green" })]);
        assert.deepEqual(p.map((x) => x.kind), ["host-reservations", "host-reservations", "host-reservations"]);
        assert.match(p[0].message, /reserve 2\.25 CPUs/);
    });
    it("memory reservations above the allocatable memory (90 % of nominal)", () => {
        assert.deepEqual(kinds([host("app-0", "app", 4, 1)], [web({ replicas: 1, limit: resources(2, "1G") })]), ["host-reservations"]);
    });
    it("start-first with maxReplicas 1 and exactly `replicas` eligible hosts stalls (moby/moby#40797)", () => {
        const p = checkFit(hosts(), [web({ update: { order: "start-first", parallelism: 1 } })]);
        assert.deepEqual(p.map((x) => x.kind), ["rollout"]);
        assert.match(p[0].message, /needs 4 slots/);
        assert.deepEqual(kinds(hosts(), [web({ rollback: { order: "start-first", parallelism: 1 } })]), ["rollout"], "a start-first rollback stalls the same way");
    });
    it("start-first fits with a fourth eligible host, and its extra task is counted in that host's reservations", () => {
        const four = [...hosts(), host("app-3", "app", 4, 16)];
        assert.deepEqual(checkFit(four, [web({ update: { order: "start-first", parallelism: 1 } })]), []);
    });
    it("more replicas than slots", () => assert.deepEqual(kinds(hosts(), [web({ replicas: 4 })]), ["capacity"]));
    it("no host satisfies the constraints", () => assert.deepEqual(kinds(hosts(), [web({ constraints: ["node.labels.role==data"] })]), ["constraint"]));
    it("a reservation above its limit", () => assert.deepEqual(kinds(hosts(), [web({ limit: resources(0.5, "1G") })]), ["reservation-above-limit"]));
    it("host-mode ports allow one task per node", () => {
        assert.deepEqual(kinds(hosts(), [web({ maxReplicas: undefined, hostPorts: [80], update: { order: "start-first", parallelism: 1 } })]), ["rollout"]);
    });
    it("an unknown constraint form is an error, never silently true", () => {
        assert.throws(() => checkFit(hosts(), [web({ constraints: ["engine.labels.x==y"] })]), /knows node\.labels/);
    });
});

/** The plan's EC2 hosts as Swarm nodes: hostname from the resource name, role and manager from the tags. */
function planHosts(plan: OfflinePlan): FitHost[] {
    return ofType(plan, "aws:ec2/instance:Instance").map((r) => {
        const i = unwrap(r.inputs) as { instanceType: string; tags: Record<string, string> };
        const spec = INSTANCE_TYPES[i.instanceType];
        assert.ok(spec, `${r.name}: instance type ${i.instanceType} is not in lib/instanceTypes.ts`);
        return { hostname: r.name.replace(/^.*-hosts-/, ""), labels: { role: i.tags.role }, manager: i.tags.swarm === "manager", cpus: spec.vcpus, memoryBytes: spec.memoryGiB * GiB, instanceType: i.instanceType };
    });
}
const planServices = (plan: OfflinePlan) => ofType(plan, "docker:index/service:Service").map((r) => fitServiceFromArgs(unwrap(r.inputs) as ServiceArgsJson));

function rawFor(stack: string, changes: Record<string, string | undefined> = {}) {
    const { values } = readStackConfig(ROOT, stack);
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (k.startsWith("ops-center-ha:")) own[k.slice(14)] = v;
    for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) delete own[k];
        else own[k] = v;
    }
    return { stack, region: values["aws:region"], keys: Object.keys(own), get: (k: string) => own[k] };
}

describe("fit check on both stacks' plans", () => {
    for (const stack of STACKS) {
        it(`${stack}: every registered service fits its registered hosts (limits, reservations, rolling updates and rollbacks)`, () => {
            const plan = planStack(stack);
            assert.deepEqual(checkFit(planHosts(plan), planServices(plan)).map((p) => p.message), []);
        });
        it(`${stack}: the config's demand model (what validation checks) is exactly what the program registers`, () => {
            const plan = planStack(stack);
            const cfg = validateConfig(rawFor(stack));
            const byName = (xs: FitService[]) => Object.fromEntries(xs.map((s) => [s.name, s]).sort(([a], [b]) => String(a).localeCompare(String(b))));
            const norm = (s: FitService) => JSON.parse(JSON.stringify({ ...s, hostPorts: s.hostPorts ?? [], maxReplicas: s.maxReplicas || undefined, replicas: s.mode === "global" ? 0 : s.replicas }));
            const model = byName(demandServices(cfg).map(norm));
            const registered = byName(planServices(plan).map(norm));
            assert.deepEqual(Object.keys(registered), Object.keys(model));
            for (const name of Object.keys(model)) assert.deepEqual(registered[name], model[name], name);
            const hostKey = (h: FitHost) => `${h.hostname} ${h.labels.role} ${h.manager} ${h.cpus} ${h.memoryBytes}`;
            assert.deepEqual(planHosts(plan).map(hostKey).sort(), demandHosts(cfg).map(hostKey).sort());
        });
    }
    it("us-east-1 with a fourth app host: the web tiers roll start-first again, and it still fits", () => {
        const plan = planStack("us-east-1", { appNodes: "4" });
        const svc = planServices(plan);
        assert.equal(svc.find((s) => s.name === "opscenter-frontend")!.update!.order, "start-first");
        assert.deepEqual(checkFit(planHosts(plan), svc).map((p) => p.message), []);
    });
});

describe("fit check in the config validator", () => {
    const rejected = (stack: string, changes: Record<string, string | undefined>, keys: string[], what: RegExp) => {
        try {
            validateConfig(rawFor(stack, changes));
        } catch (e) {
            assert.ok(e instanceof ConfigError, String(e));
            const line = e.problems.find((p) => what.test(p));
            assert.ok(line, `no problem matches ${what}: ${e.problems.join(" | ")}`);
            for (const k of keys) assert.ok(line.includes(`ops-center-ha:${k}`), `${line} does not name ${k}`);
            return;
        }
        assert.fail(`${JSON.stringify(changes)} was accepted`);
    };
    it("a Postgres limit above the data hosts' CPUs names dataInstanceType", () => {
        rejected("us-east-1", { dataInstanceType: "r6i.large" }, ["dataInstanceType"], /CPU limit 4 exceeds host data-0/);
    });
    it("promotion (only role: primary) fits the standby's hosts: the promoted region keeps its standby sizes", () => {
        assert.equal(validateConfig(rawFor("us-west-2", { role: "primary" })).role, "primary");
    });
    it("making a promoted standby a full primary (primaryStack dropped) on its 2-vCPU data hosts is refused until the data hosts grow", () => {
        rejected("us-west-2", { role: "primary", primaryStack: undefined, frontendReplicas: "3", backendReplicas: "3", edgeNodes: "2", redisReplicas: "2" }, ["dataInstanceType"], /CPU limit 4 exceeds/);
    });
    it("app hosts too small for the web tiers' reservations name appInstanceType and the replica keys", () => {
        rejected("us-east-1", { appInstanceType: "t3.small" }, ["appInstanceType", "appNodes", "frontendReplicas", "backendReplicas"], /host app-0/);
    });
    it("an instance type the program has no size for is refused with the list of known ones", () => {
        rejected("us-east-1", { appInstanceType: "x9.mega" }, ["appInstanceType"], /one of the types in lib\/instanceTypes\.ts/);
    });
    it("every config the validator accepts over a grid of pools, sizes and replicas fits", () => {
        let accepted = 0;
        for (const stack of STACKS) {
            for (const app of ["t3.medium", "t3.large", "t3.xlarge", "m6i.large"]) {
                for (const data of ["r6i.large", "r6i.xlarge", "m6i.xlarge"]) {
                    for (const appNodes of ["3", "4", "5"]) {
                        for (const replicas of stack === "us-east-1" ? ["3", "4", "5"] : ["1", "2", "3"]) {
                            const changes = { appInstanceType: app, dataInstanceType: data, appNodes, frontendReplicas: replicas, backendReplicas: replicas };
                            let cfg;
                            try {
                                cfg = validateConfig(rawFor(stack, changes));
                            } catch (e) {
                                assert.ok(e instanceof ConfigError, String(e));
                                continue;
                            }
                            accepted++;
                            assert.deepEqual(checkFit(demandHosts(cfg), demandServices(cfg)), [], `${stack} ${JSON.stringify(changes)}`);
                        }
                    }
                }
            }
        }
        assert.ok(accepted > 20, `only ${accepted} configs accepted`);
    });
    it("npm run fit prints each host's reservations for both stacks and exits 0", () => {
        for (const stack of STACKS) {
            const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/fit.ts"), stack], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.match(r.stdout, new RegExp(`^${stack}: fits`));
            assert.match(r.stdout, /app-0 +t3\.(large|medium) +1\.65 of 2 CPUs/);
        }
    });
    it("per-host reservations of both stacks (printed for the README)", () => {
        for (const stack of STACKS) {
            const cfg = validateConfig(rawFor(stack));
            const r = reservedPerHost(demandHosts(cfg), demandServices(cfg));
            const line = Object.entries(r).map(([h, x]) => `${h} ${(x.nanoCpus / 1e9).toFixed(2)} CPU/${(x.memoryBytes / GiB).toFixed(2)} GiB`);
            console.log(`${stack}: ${line.join("; ")}`);
        }
    });
});
