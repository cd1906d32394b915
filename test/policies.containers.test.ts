/**
 * Swarm service and DNS policies, awsguard style: a happy-path service (or DNS stack) passes, one changed field fails.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    imagePinned, literalSecret, swarmHealthcheck, swarmImagePinned, swarmNetworksById, swarmNoLiteralSecret, swarmResources, swarmRestartPolicy, swarmStatefulUpdate, swarmStatelessUpdate,
} from "../policies/containers";
import { dnsAlarmsUsEast1, dnsFailoverRecord, dnsFailoverTime, dnsFailoverTtl } from "../policies/dns";
import { haRollingUpdateRoom } from "../policies/stack";
import { TYPES } from "../policies/support";
import { runResource, runStack, StackResource, withField } from "./support/policyArgs";

const one = (out: unknown, re: RegExp) => assert.ok(Array.isArray(out) && out.length === 1 && re.test(out[0]), `got ${JSON.stringify(out)}`);

/** The frontend as the program should build it. */
function happyService(): Record<string, unknown> {
    return {
        name: "opscenter-frontend",
        mode: { replicated: { replicas: 3 } },
        labels: [{ label: "traefik.enable", value: "true" }],
        taskSpec: {
            containerSpec: {
                image: "kubeworkz/ops_center:frontend-1.4.2",
                env: { DATABASE_PASSWORD_FILE: "/run/secrets/db_password", LOG_LEVEL: "info" },
                healthcheck: { tests: ["CMD", "curl", "-fsS", "http://localhost/health"], interval: "10s", timeout: "3s", retries: 3 },
            },
            networksAdvanceds: [{ id: "net-edge-id" }],
            placement: { constraints: ["node.labels.role==app"], maxReplicas: 1 },
            resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 536870912 }, reservation: { nanoCpus: 250_000_000, memoryBytes: 268435456 } },
            restartPolicy: { condition: "any", delay: "5s" },
        },
        updateConfig: { order: "start-first", failureAction: "rollback", parallelism: 1 },
    };
}

/** A stateful service: a data volume, pinned, stop-first. */
function happyStateful(): Record<string, unknown> {
    const s = withField(happyService(), "taskSpec.containerSpec.mounts", [{ type: "volume", source: "pg-1-data", target: "/home/postgres/pgdata" }]);
    return withField(withField(s, "taskSpec.placement.constraints", ["node.labels.role==data", "node.hostname==data-0"]), "updateConfig.order", "stop-first");
}

const run = (policy: Parameters<typeof runResource>[0], props: Record<string, unknown>) => runResource(policy, { type: TYPES.service, props });

/** `n` app hosts (t3.large), as the program registers them: hostname in cloud-init, role in a tag. */
const appHosts = (n: number): StackResource[] =>
    Array.from({ length: n }, (_, i) => ({ type: TYPES.instance, name: `app-${i}`, props: { userData: `#cloud-config\nhostname: app-${i}\n`, tags: { Name: `opscenter-app-${i}`, role: "app" }, instanceType: "t3.large" } }));
/** swarm-stateless-update on one service and `hosts` app hosts (4 by default: one free for a start-first task). */
const stateless = (props: Record<string, unknown>, hosts = 4) => runStack(swarmStatelessUpdate, [...appHosts(hosts), { type: TYPES.service, name: "subject", props }]);

describe("container policies", () => {
    for (const p of [swarmHealthcheck, swarmRestartPolicy, swarmResources, swarmImagePinned, swarmNoLiteralSecret, swarmStatefulUpdate]) {
        it(`${p.name}: the happy-path service passes`, async () => assert.deepEqual(await run(p, happyService()), []));
    }
    it("swarm-healthcheck: no health check fails", async () => one(await run(swarmHealthcheck, withField(happyService(), "taskSpec.containerSpec.healthcheck", undefined)), /no health check/));
    it("swarm-healthcheck: a NONE health check fails", async () => one(await run(swarmHealthcheck, withField(happyService(), "taskSpec.containerSpec.healthcheck.tests", ["NONE"])), /disabled/));
    it("swarm-restart-policy: condition on-failure fails (a task that exits 0, e.g. after Swarm stops it as unhealthy, is never replaced)", async () =>
        one(await run(swarmRestartPolicy, withField(happyService(), "taskSpec.restartPolicy.condition", "on-failure")), /on-failure/));
    it("swarm-restart-policy: a cap on restart attempts fails (the service stays down after it)", async () =>
        one(await run(swarmRestartPolicy, withField(happyService(), "taskSpec.restartPolicy.maxAttempts", 3)), /maxAttempts/));
    it("swarm-restart-policy: condition none fails", async () => one(await run(swarmRestartPolicy, withField(happyService(), "taskSpec.restartPolicy.condition", "none")), /none/));
    it("swarm-restart-policy: no restart policy fails", async () => one(await run(swarmRestartPolicy, withField(happyService(), "taskSpec.restartPolicy", undefined)), /unset/));
    it("swarm-resources: no limits fails", async () => one(await run(swarmResources, withField(happyService(), "taskSpec.resources.limits", undefined)), /limits.nanoCpus, limits.memoryBytes/));
    it("swarm-resources: no memory reservation fails", async () => one(await run(swarmResources, withField(happyService(), "taskSpec.resources.reservation.memoryBytes", undefined)), /reservation.memoryBytes/));
    it("swarm-resources: a reservation above the limit fails", async () => one(await run(swarmResources, withField(happyService(), "taskSpec.resources.reservation.nanoCpus", 1_000_000_000)), /exceeds limits.nanoCpus/));
    it("swarm-image-pinned: latest fails", async () => one(await run(swarmImagePinned, withField(happyService(), "taskSpec.containerSpec.image", "kubeworkz/ops_center:latest")), /not pinned/));
    it("swarm-image-pinned: an untagged image fails", async () => one(await run(swarmImagePinned, withField(happyService(), "taskSpec.containerSpec.image", "registry:5000/ops_center")), /not pinned/));
    it("swarm-image-pinned: a digest passes", () => assert.ok(imagePinned(`redis@sha256:${"a".repeat(64)}`)));
    it("swarm-no-literal-secret: a password in an environment value fails", async () => {
        one(await run(swarmNoLiteralSecret, withField(happyService(), "taskSpec.containerSpec.env.DATABASE_PASSWORD", "SuperSecretPassword")), /DATABASE_PASSWORD carries a literal value/);
    });
    it("swarm-no-literal-secret: a URL with a password fails", async () => {
        one(await run(swarmNoLiteralSecret, withField(happyService(), "taskSpec.containerSpec.env.DATABASE_URL", "postgres://app:hunter2@db/app")), /URL with a password/);
    });
    it("swarm-no-literal-secret: a secret in a label fails", async () => {
        one(await run(swarmNoLiteralSecret, withField(happyService(), "labels", [{ label: "traefik.http.middlewares.auth.basicauth.token", value: "abc123" }])), /label/);
    });
    it("swarm-no-literal-secret: *_FILE keys and /run/secrets paths pass", () => {
        assert.equal(literalSecret("REDIS_PASSWORD_FILE", "/run/secrets/redis_password"), undefined);
        assert.equal(literalSecret("AUTH_TOKEN", "/run/secrets/token"), undefined);
    });
    it("swarm-stateless-update: the happy-path service passes (4 app hosts: a free one for the extra task)", async () => assert.deepEqual(await stateless(happyService()), []));
    it("swarm-stateless-update: stop-first fails for a stateless service", async () => one(await stateless(withField(happyService(), "updateConfig.order", "stop-first")), /want start-first/));
    it("swarm-stateless-update: failure action pause fails", async () => one(await stateless(withField(happyService(), "updateConfig.failureAction", "pause")), /want rollback/));
    it("swarm-stateless-update: a global service with host-mode ports must update stop-first (Traefik)", async () => {
        const global = withField(happyService(), "mode", { global: true });
        assert.deepEqual(await stateless(global), []);
        const withPorts = withField(global, "endpointSpec", { ports: [{ publishMode: "host", publishedPort: 443, targetPort: 443 }] });
        one(await stateless(withPorts), /want stop-first/);
        assert.deepEqual(await stateless(withField(withPorts, "updateConfig.order", "stop-first")), []);
    });
    it("swarm-stateless-update: replicas filling every eligible host under maxReplicas must roll stop-first (moby#40797), as ha-rolling-update-room says", async () => {
        one(await stateless(happyService(), 3), /want stop-first/);
        assert.deepEqual(await stateless(withField(happyService(), "updateConfig.order", "stop-first"), 3), []);
        const room = await runStack(haRollingUpdateRoom, [...appHosts(3), { type: TYPES.service, name: "frontend", props: happyService() }]);
        one(room, /opscenter-frontend.*never places/);
    });
    it("swarm-stateless-update: a capped service on a Swarm of unknown size may roll stop-first (lib/sizing.ts cappedUpdateOrder)", async () => {
        assert.deepEqual(await stateless(withField(happyService(), "updateConfig.order", "stop-first"), 0), []);
    });
    it("swarm-stateful-update: a pinned stop-first stateful service passes", async () => assert.deepEqual(await run(swarmStatefulUpdate, happyStateful()), []));
    it("swarm-stateful-update: an unpinned stateful service fails (issue 8: Prometheus, Alertmanager)", async () => {
        one(await run(swarmStatefulUpdate, withField(happyStateful(), "taskSpec.placement.constraints", ["node.labels.role==data"])), /not pinned/);
    });
    it("swarm-stateful-update: start-first on a stateful service fails", async () => one(await run(swarmStatefulUpdate, withField(happyStateful(), "updateConfig.order", "start-first")), /share one data directory/));
    it("swarm-stateful-update: a database image is stateful without a volume", async () => {
        const redis = withField(withField(happyService(), "taskSpec.containerSpec.image", "redis:7.2.6-alpine"), "updateConfig.order", "stop-first");
        one(await run(swarmStatefulUpdate, redis), /not pinned/);
        assert.deepEqual(await stateless(redis), [], "and then not held to the stateless rule");
    });

    const nets: StackResource[] = [
        { type: TYPES.network, name: "edge", props: { id: "net-edge-id", name: "opscenter-edge" } },
        { type: TYPES.service, name: "frontend", props: happyService() },
    ];
    it("swarm-networks-by-id: attaching by id passes", async () => assert.deepEqual(await runStack(swarmNetworksById, nets), []));
    it("swarm-networks-by-id: attaching by name fails (issue 7)", async () => {
        one(await runStack(swarmNetworksById, [nets[0], { ...nets[1], props: withField(happyService(), "taskSpec.networksAdvanceds", [{ id: "opscenter-edge" }]) }]), /by name/);
    });
    it("swarm-networks-by-id: an unknown reference fails", async () => {
        one(await runStack(swarmNetworksById, [nets[0], { ...nets[1], props: withField(happyService(), "taskSpec.networksAdvanceds", [{ id: "somewhere" }]) }]), /neither/);
    });
    it("swarm-networks-by-id: the deprecated name field fails, even holding the id (provider 5.2: \"Please use docker_network.id\")", async () => {
        one(await runStack(swarmNetworksById, [nets[0], { ...nets[1], props: withField(happyService(), "taskSpec.networksAdvanceds", [{ name: "net-edge-id" }]) }]), /deprecated name/);
    });
});

describe("dns policies", () => {
    const record = { name: "ops.example.com", type: "A", ttl: 60, records: ["203.0.113.10"], failoverRoutingPolicies: [{ type: "PRIMARY" }], healthCheckId: "hc-1", setIdentifier: "primary-us-east-1" };
    const check = { id: "hc-1", type: "HTTPS", requestInterval: 10, failureThreshold: 3, resourcePath: "/health" };
    const stack = (r: object = record, c: object = check): StackResource[] => [
        { type: TYPES.vpc, name: "vpc", props: { tags: { role: "primary" } } },
        { type: "aws:ec2/eip:Eip", name: "edge", props: {} },
        { type: TYPES.record, name: "failover", props: r as Record<string, unknown> },
        { type: TYPES.healthCheck, name: "edge", props: c as Record<string, unknown> },
    ];
    it("dns-failover-record: one PRIMARY record with a health check passes", async () => assert.deepEqual(await runStack(dnsFailoverRecord, stack()), []));
    it("dns-failover-record: a SECONDARY record in a primary fails", async () => one(await runStack(dnsFailoverRecord, stack(withField(record, "failoverRoutingPolicies", [{ type: "SECONDARY" }]))), /role is primary/));
    it("dns-failover-record: no health check fails", async () => one(await runStack(dnsFailoverRecord, stack(withField(record, "healthCheckId", undefined))), /no healthCheckId/));
    it("dns-failover-record: a health check of another stack fails", async () => one(await runStack(dnsFailoverRecord, stack(withField(record, "healthCheckId", "hc-9"))), /not in this stack/));
    it("dns-failover-record: two failover records fail", async () => one(await runStack(dnsFailoverRecord, [...stack(), { type: TYPES.record, name: "second", props: record }]), /2 failover records/));
    it("dns-failover-record: the stack tag opscenter:role wins over resource tags", async () => {
        one(await runStack(dnsFailoverRecord, stack(), { stackTags: new Map([["opscenter:role", "standby"]]) }), /SECONDARY/);
    });
    it("dns-failover-record: not applicable without an edge (existing Swarm)", async () => assert.equal(await runStack(dnsFailoverRecord, [{ type: TYPES.vpc, name: "v", props: {} }]), "not-applicable"));
    it("dns-failover-ttl: 60 s passes, 300 s fails", async () => {
        assert.deepEqual(await runResource(dnsFailoverTtl, { type: TYPES.record, props: record }), []);
        one(await runResource(dnsFailoverTtl, { type: TYPES.record, props: withField(record, "ttl", 300) }), /exceeds 60/);
    });
    it("dns-failover-time: 10 s x 3 + 60 = 90 s passes", async () => assert.deepEqual(await runStack(dnsFailoverTime, stack()), []));
    it("dns-failover-time: a 30 s interval fails (150 s)", async () => one(await runStack(dnsFailoverTime, stack(record, withField(check, "requestInterval", 30))), /= 150 s/));
    it("dns-failover-time: 5 failures fail (110 s)", async () => one(await runStack(dnsFailoverTime, stack(record, withField(check, "failureThreshold", 5))), /= 110 s/));
    const alarm = { namespace: "AWS/Route53", metricName: "HealthCheckStatus", alarmActions: ["arn:aws:sns:us-east-1:1:t"] };
    it("dns-alarms-us-east-1: an alarm through a us-east-1 provider passes", async () => {
        assert.deepEqual(await runResource(dnsAlarmsUsEast1, { type: TYPES.metricAlarm, props: alarm, provider: { type: "pulumi:providers:aws", props: { region: "us-east-1" } } }), []);
    });
    it("dns-alarms-us-east-1: an alarm through a us-west-2 provider fails", async () => {
        one(await runResource(dnsAlarmsUsEast1, { type: TYPES.metricAlarm, props: alarm, provider: { type: "pulumi:providers:aws", props: { region: "us-west-2" } } }), /us-west-2/);
    });
    it("dns-alarms-us-east-1: without a provider, the actions' region decides", async () => one(await runResource(dnsAlarmsUsEast1, { type: TYPES.metricAlarm, props: withField(alarm, "alarmActions", ["arn:aws:sns:us-west-2:1:t"]) }), /us-west-2/));
});
