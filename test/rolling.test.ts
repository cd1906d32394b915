/**
 * Stateful tiers roll one member at a time (issue 12 item 4), read from the plan as the engine would see it: every
 * etcd, Patroni and Redis/Sentinel member service depends on the member rolled before it (the engine then updates
 * the next one only after the previous step finished), each update is stop-first with rollback on failure, and the
 * Docker provider waits for convergence (convergeConfig) so that a step finishes only when its task runs healthy.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STACKS, ofType, planStack, unwrap } from "./harness";

type Json = Record<string, any>;
const SERVICE = "docker:index/service:Service";

for (const stack of STACKS) {
    describe(`rolling stateful members (${stack})`, () => {
        const plan = () => planStack(stack);
        const services = () => ofType(plan(), SERVICE).map((r) => ({ r, p: unwrap(r.inputs) as Json }));
        const svc = (name: string) => {
            const s = services().find((x) => x.p.name === `opscenter-${name}`);
            assert.ok(s, `no service opscenter-${name}`);
            return s;
        };
        /**
         * The chain, first to last, checked link by link: each member depends on exactly the one before; the first on the
         * region fence's sync (its start gate waits for the sync's first round), or on nothing (etcd).
         */
        const assertChain = (names: string[], first: string[] = []) => {
            const urns = names.map((n) => svc(n).r.urn);
            assert.deepEqual(svc(names[0]).r.opts?.dependsOn ?? [], first.map((n) => svc(n).r.urn), `${names[0]} is the first of its chain`);
            for (let i = 1; i < names.length; i++) {
                assert.deepEqual(svc(names[i]).r.opts?.dependsOn, [urns[i - 1]], `${names[i]} must depend on ${names[i - 1]}`);
            }
        };
        const redisNodes = () => services().map((s) => String(s.p.name)).filter((n) => /^opscenter-redis-\d+$/.test(n)).map((n) => n.replace("opscenter-", "")).sort();
        const sentinels = () => services().map((s) => String(s.p.name)).filter((n) => /^opscenter-redis-sentinel-\d+$/.test(n)).map((n) => n.replace("opscenter-", "")).sort();

        it("etcd members depend on each other in a chain: etcd-1, etcd-2, etcd-3", () => {
            assertChain(["etcd-1", "etcd-2", "etcd-3"]);
        });
        it("Patroni members: pg-1, then pg-2", () => {
            assertChain(["pg-1", "pg-2"], ["fence-sync"]);
        });
        it("postgresRollLast names the live leader: the others roll first, in order, and the leader last (one handover per roll)", () => {
            const chain = (o: Record<string, string>) => {
                const p = planStack(stack, o);
                const all = ofType(p, SERVICE).map((r) => ({ r, name: String((unwrap(r.inputs) as Json).name) }));
                const byUrn = new Map(all.map((x) => [x.r.urn, x.name.replace("opscenter-", "")]));
                const pgs = all.filter((x) => /^opscenter-pg-\d+$/.test(x.name));
                const first = pgs.find((x) => (x.r.opts?.dependsOn ?? []).every((u: string) => !/pg-\d+$/.test(byUrn.get(u) ?? "")))!;
                const order = [first.name.replace("opscenter-", "")];
                for (let i = 0; i < pgs.length; i++) {
                    const next = pgs.find((x) => (x.r.opts?.dependsOn ?? []).some((u: string) => byUrn.get(u) === order[order.length - 1]));
                    if (next) order.push(next.name.replace("opscenter-", ""));
                }
                return { order, first: (first.r.opts?.dependsOn ?? []).map((u: string) => byUrn.get(u)) };
            };
            const members = ["pg-2", "pg-3", "pg-1"];
            assert.deepEqual(chain({ postgresRollLast: "pg-1" }), { order: members, first: ["fence-sync"] });
        });
        it("Redis: the replicas first, the rendered initial master (redis-1) last, then the sentinels one by one", () => {
            const nodes = redisNodes().reverse();
            assert.equal(nodes[nodes.length - 1], "redis-1");
            assertChain([...nodes, ...sentinels()], ["fence-sync"]);
        });
        it("every member service: stop-first, parallelism 1, rollback on failure, a monitor window, and convergeConfig", () => {
            const members = services().filter((s) => /^opscenter-(etcd-\d+|pg-\d+|redis-\d+|redis-sentinel-\d+)$/.test(String(s.p.name)));
            assert.ok(members.length >= (stack === "us-east-1" ? 11 : 6), `${members.length} member services`);
            for (const { p } of members) {
                const u = p.updateConfig;
                assert.equal(u?.order, "stop-first", p.name);
                assert.equal(u?.parallelism, 1, p.name);
                assert.equal(u?.failureAction, "rollback", p.name);
                assert.match(String(u?.monitor), /^\d+s$/, p.name);
                const hc = p.taskSpec.containerSpec.healthcheck;
                const secs = (d: string) => Number(String(d).replace(/s$/, ""));
                assert.ok(secs(u.monitor) >= secs(hc.startPeriod) + hc.retries * secs(hc.interval), `${p.name}: monitor ${u.monitor} shorter than the health check's start period + retries x interval`);
                assert.equal(p.rollbackConfig?.order, "stop-first", p.name);
                assert.ok(p.convergeConfig?.timeout, `${p.name}: no convergeConfig: up would report success before the task runs`);
            }
        });
    });
}
