/**
 * Mock-engine tests of what makes the tiers run for real (issue 8): traffic only to ready tasks, a Redis path for
 * the standby region's backend, monitoring volumes that survive a reschedule.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OfflinePlan } from "../offline/engine";
import { ofType, planStack, unwrap } from "./harness";

const SERVICE = "docker:index/service:Service";
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function service(plan: OfflinePlan, swarmName: string): Json {
    const r = ofType(plan, SERVICE).find((s) => s.inputs.name === swarmName);
    if (!r) throw new Error(`no service ${swarmName}`);
    return unwrap(r.inputs) as Json;
}
const labels = (svc: Json): Record<string, string> => Object.fromEntries((svc.labels ?? []).map((l: Json) => [l.label, l.value]));

for (const stack of ["us-east-1", "us-west-2"] as const) {
    const primary = stack === "us-east-1";
    describe(`tiers that run: ${stack}`, () => {
        const plan = () => planStack(stack);

        it("backend: Traefik routes only to ready tasks (/ready), Swarm restarts only on failed liveness (/health)", () => {
            const b = service(plan(), "opscenter-backend-blue");
            assert.equal(labels(b)["traefik.http.services.backend.loadbalancer.healthcheck.path"], "/ready", "routing gated by readiness (migrations done, pool ready)");
            assert.deepEqual(b.taskSpec.containerSpec.healthcheck.tests, ["CMD", "curl", "-fsS", "http://localhost:8084/health"], "liveness stays /health");
            const f = service(plan(), "opscenter-frontend");
            assert.equal(labels(f)["traefik.http.services.frontend.loadbalancer.healthcheck.path"], "/health", "the static frontend has no /ready: ready is alive");
        });

        it(`backend: a working Redis path in this region (${primary ? "the sentinels" : "the local replica, read-only until promotion"})`, () => {
            const env = service(plan(), "opscenter-backend-blue").taskSpec.containerSpec.env;
            if (primary) {
                assert.equal(env.REDIS_SENTINELS.split(",").length, 3);
                assert.equal(env.REDIS_ADDRESS, undefined);
                return;
            }
            assert.equal(env.REDIS_SENTINELS, undefined, "no empty sentinel list");
            assert.match(env.REDIS_ADDRESS ?? "", /^\d+\.\d+\.\d+\.\d+:6379$/, "the local replica's announced address");
            // The replica publishes 6379 on that host (host mode), and it is a data host of this region.
            const replica = service(plan(), "opscenter-redis-1");
            assert.deepEqual(replica.endpointSpec.ports.map((p: Json) => [p.publishedPort, p.publishMode]), [[6379, "host"]]);
            const conf = (replica.taskSpec.containerSpec.configs as Json[]).find((c) => c.fileName === "/usr/local/etc/redis/redis.conf")!;
            const text = Buffer.from(String(ofType(plan(), "docker:index/serviceConfig:ServiceConfig").find((c) => c.inputs.name === conf.configName)!.inputs.data), "base64").toString("utf8");
            assert.ok(text.includes(`replica-announce-ip ${env.REDIS_ADDRESS.split(":")[0]}`), "the address the replica announces on its host");
            assert.equal(env.REDIS_READ_ONLY, "true", "the app knows writes wait for the fenced promotion");
        });

        it("limits follow the design's sizes where they fit the hosts (README tier table)", () => {
            const GiB = 2 ** 30;
            const limit = (n: string) => service(plan(), n).taskSpec.resources?.limits;
            assert.deepEqual(limit("opscenter-pg-1"), primary ? { nanoCpus: 4e9, memoryBytes: 8 * GiB } : { nanoCpus: 2e9, memoryBytes: 4 * GiB }, "Postgres primary 4/8G, standby 2/4G");
            assert.deepEqual(limit("opscenter-redis-1"), { nanoCpus: 1e9, memoryBytes: 2 * GiB }, "Redis 1/2G");
            assert.deepEqual(limit("opscenter-traefik"), { nanoCpus: 1e9, memoryBytes: GiB }, "Traefik 1/1G");
            assert.deepEqual(limit("opscenter-frontend"), { nanoCpus: 5e8, memoryBytes: 512 * 2 ** 20 }, "frontend 0.5/512M");
            assert.deepEqual(limit("opscenter-backend-blue"), { nanoCpus: 2e9, memoryBytes: 2 * GiB }, "backend 2/2G");
            const redis = service(plan(), "opscenter-redis-1");
            const conf = (redis.taskSpec.containerSpec.configs as Json[]).find((c) => c.fileName === "/usr/local/etc/redis/redis.conf")!;
            const text = Buffer.from(String(ofType(plan(), "docker:index/serviceConfig:ServiceConfig").find((c) => c.inputs.name === conf.configName)!.inputs.data), "base64").toString("utf8");
            assert.ok(text.split("\n").includes("maxmemory 1536mb"), "Redis refuses writes before its 2G limit kills it");
        });

        it("monitoring: Prometheus and Alertmanager are pinned to the app host that holds their volume", () => {
            for (const name of ["opscenter-prometheus", "opscenter-alertmanager"]) {
                const s = service(plan(), name);
                const pins = s.taskSpec.placement.constraints.filter((c: string) => c.startsWith("node.hostname=="));
                assert.equal(pins.length, 1, `${name} is pinned to one host`);
                assert.ok(s.taskSpec.containerSpec.mounts.some((m: Json) => m.type === "volume"), `${name} keeps a local volume`);
            }
            const host = (n: string) => service(plan(), n).taskSpec.placement.constraints.find((c: string) => c.startsWith("node.hostname=="));
            assert.notEqual(host("opscenter-prometheus"), host("opscenter-alertmanager"), "one host's loss takes only one of them");
        });
    });
}
