/**
 * Unit tests of the Swarm translation (test/swarm/translate.ts) and of its allowed deviations
 * (test/swarm/deviations.ts): every Docker resource of both stacks' plans translates with no unknown field, an
 * unknown field fails by name, and each mapping follows the @pulumi/docker provider's (durations in ns, nano-CPUs,
 * bytes, secret file targets, networks, mode, ports, placement, update/rollback defaults, ...).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OfflinePlan, RecordedResource } from "../offline/engine";
import { byName, ofType, planStack, STACKS, unwrap } from "./harness";
import { serviceDependencies, specDiff } from "./swarm/apply";
import { applyDeviations, scaling } from "./swarm/deviations";
import { LAB_DAEMON_KEYS, labDaemonConfig } from "./swarm/lab";
import { peerNeeds } from "./swarm/peerRegion";
import { hostsFromPlan, planAddresses } from "./swarm/planHosts";
import { goDurationNs, Json, mountedSecret, T, translatePlan, translateService, translateSecret, UnknownField } from "./swarm/translate";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const GiB = 1024 ** 3;
/** This machine as each lab node reports it to the Swarm: 2 CPUs, 24 GB. */
const LAB_NODE = { cpus: 2, memoryBytes: 24 * 1e9 };

function spec(plan: OfflinePlan, swarmName: string): Any {
    const t = translatePlan(plan);
    const s = t.services.find((x) => x.spec.Name === swarmName);
    if (!s) throw new Error(`no service ${swarmName}`);
    return s.spec as Any;
}
/** The plan's service resource with one input changed by `edit` (a deep copy). */
function edited(plan: OfflinePlan, swarmName: string, edit: (inputs: Any) => void): RecordedResource {
    const r = ofType(plan, T.service).find((x) => x.inputs.name === swarmName)!;
    const inputs = JSON.parse(JSON.stringify(r.inputs)) as Any;
    edit(inputs);
    return { ...r, inputs };
}
function hostsOf(plan: OfflinePlan): { role: string; instanceType: string }[] {
    return ofType(plan, "aws:ec2/instance:Instance").map((i) => {
        const tags = (unwrap(i.inputs.tags) ?? {}) as Record<string, string>;
        return { role: tags.role, instanceType: String(i.inputs.instanceType) };
    });
}

for (const stack of STACKS) {
    describe(`Swarm translation of ${stack}'s plan`, () => {
        it("translates every network, secret, config and service without an unknown field", () => {
            const plan = planStack(stack);
            const t = translatePlan(plan);
            assert.equal(t.networks.length, ofType(plan, T.network).length);
            assert.equal(t.secrets.length, ofType(plan, T.secret).length);
            assert.equal(t.configs.length, ofType(plan, T.config).length);
            assert.equal(t.services.length, ofType(plan, T.service).length);
            assert.ok(t.services.length >= 10, `${t.services.length} services`);
        });

        it("carries the mock engine's generated secret values, never the redaction marker", () => {
            const plan = planStack(stack);
            for (const s of translatePlan(plan).secrets) {
                const plain = Buffer.from(s.body.Data, "base64").toString("utf8");
                assert.equal(s.body.Data, unwrap(s.plan.inputs.data), s.body.Name);
                assert.ok(plain.length >= 8 && !plain.includes("[secret]"), `${s.body.Name}: ${plain.length} chars`);
            }
        });

        it("the production plan asks for an encrypted data overlay; only the lab deviation drops it", () => {
            const plan = planStack(stack);
            const t = translatePlan(plan);
            const data = t.networks.find((n) => n.body.Name === "opscenter-data")!;
            assert.equal(data.body.Options.encrypted, "true");
            const d = applyDeviations(t, hostsOf(plan), LAB_NODE);
            assert.equal(d.translation.networks.find((n) => n.body.Name === "opscenter-data")!.body.Options.encrypted, undefined);
            assert.ok(d.lines.some((l) => l.includes("unencrypted") && l.includes("opscenter-data")));
            // the translation itself is left as the plan says
            assert.equal(data.body.Options.encrypted, "true");
        });

        it("each lab engine runs its host's daemon.json: the lab adds only its own keys and overrides none", () => {
            const lab = Object.fromEntries(LAB_DAEMON_KEYS.map((k) => [k, `lab-${k}`]));
            for (const h of hostsFromPlan(planStack(stack))) {
                const host = h.cloudInit.daemonJson;
                assert.ok(Object.keys(host).length > 0, `${h.hostname}: cloud-init writes no daemon.json`);
                const merged = labDaemonConfig(host, lab);
                for (const [k, v] of Object.entries(host)) assert.deepEqual(merged[k], v, `${h.hostname}: ${k}`);
                assert.deepEqual(Object.keys(merged).sort(), [...Object.keys(host), ...LAB_DAEMON_KEYS].sort());
            }
        });
    });
}

describe("Swarm translation: mappings follow the @pulumi/docker provider (terraform-provider-docker createServiceSpec)", () => {
    const plan = () => planStack("us-east-1");

    it("durations become nanoseconds (time.ParseDuration)", () => {
        assert.equal(goDurationNs("d", "10s"), 10e9);
        assert.equal(goDurationNs("d", "1m30s"), 90e9);
        assert.equal(goDurationNs("d", "100ms"), 100e6);
        assert.equal(goDurationNs("d", "0s"), 0);
        assert.throws(() => goDurationNs("x.delay", "10 seconds"), /x\.delay: "10 seconds" is not a Go duration/);
        const s = spec(plan(), "opscenter-backend-blue");
        assert.equal(s.TaskTemplate.ContainerSpec.StopGracePeriod, 30e9);
        assert.deepEqual(s.TaskTemplate.ContainerSpec.Healthcheck, { Test: ["CMD", "curl", "-fsS", "http://localhost:8084/health"], Interval: 15e9, Timeout: 5e9, StartPeriod: 60e9, Retries: 3 });
        assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: "any", Delay: 5e9 });
    });

    it("resources: limits.nanoCpus/memoryBytes and reservation -> Limits/Reservations", () => {
        const s = spec(plan(), "opscenter-backend-blue");
        assert.deepEqual(s.TaskTemplate.Resources, { Limits: { NanoCPUs: 2e9, MemoryBytes: 2 * GiB }, Reservations: { NanoCPUs: 0.5e9, MemoryBytes: 1 * GiB } });
    });

    it("secrets and configs: file target with uid, gid and mode; plan ids kept for apply to resolve", () => {
        const s = spec(plan(), "opscenter-redis-1");
        const sec = s.TaskTemplate.ContainerSpec.Secrets[0];
        assert.deepEqual(sec.File, { Name: "/run/secrets/redis_password", UID: "999", GID: "1000", Mode: 0o400 });
        assert.match(sec.SecretID, /^redis-[0-9a-f]{8}$/);
        assert.match(sec.SecretName, /^opscenter-redis-/);
        const conf = s.TaskTemplate.ContainerSpec.Configs.find((c: Any) => c.File.Name === "/usr/local/bin/ops-redis-start.sh");
        // no uid/gid in the plan: the schema's "0" defaults
        assert.deepEqual(conf.File, { Name: "/usr/local/bin/ops-redis-start.sh", UID: "0", GID: "0", Mode: 0o555 });
        assert.equal(s.TaskTemplate.ContainerSpec.User, "999");
    });

    it("networksAdvanceds -> TaskTemplate.Networks: Target is the id when given, else the name; aliases kept", () => {
        const s = spec(plan(), "opscenter-prometheus");
        // Attached by the network resources' ids (issue 7): the Target is the plan's id of each network.
        const netId = (name: string) => plan().resources.find((r) => r.type === "docker:index/network:Network" && r.inputs.name === name)!.id;
        assert.deepEqual(s.TaskTemplate.Networks.map((n: Any) => n.Target), ["opscenter-edge", "opscenter-app", "opscenter-data"].map(netId));
        const r = edited(plan(), "opscenter-prometheus", (i) => {
            i.taskSpec.networksAdvanceds = [{ id: "net-123", name: "ignored", aliases: ["prom"], driverOpts: ["a=b=c"] }];
        });
        assert.deepEqual((translateService(r).spec.TaskTemplate as Any).Networks, [{ Target: "net-123", Aliases: ["prom"], DriverOpts: { a: "b=c" } }]);
    });

    it("mode: replicated replicas, or global", () => {
        assert.deepEqual(spec(plan(), "opscenter-frontend").Mode, { Replicated: { Replicas: 3 } });
        assert.deepEqual(spec(plan(), "opscenter-traefik").Mode, { Global: {} });
    });

    it("endpointSpec ports with publishMode; empty EndpointSpec when none", () => {
        assert.deepEqual(spec(plan(), "opscenter-postgres-router").EndpointSpec, { Ports: [{ Protocol: "tcp", TargetPort: 5000, PublishMode: "ingress", PublishedPort: 5000 }] });
        assert.deepEqual(spec(plan(), "opscenter-redis-1").EndpointSpec.Ports[0].PublishMode, "host");
        assert.deepEqual(spec(plan(), "opscenter-frontend").EndpointSpec, {});
    });

    it("placement: constraints, spread prefs verbatim (stringSetToPlacementPrefs), maxReplicas", () => {
        assert.deepEqual(spec(plan(), "opscenter-frontend").TaskTemplate.Placement, {
            Constraints: ["node.labels.role==app"],
            Preferences: [{ Spread: { SpreadDescriptor: "spread=node.labels.zone" } }],
            MaxReplicas: 1,
        });
        assert.deepEqual(spec(plan(), "opscenter-pg-1").TaskTemplate.Placement.Constraints, ["node.labels.role==data", "node.hostname==data-0"]);
    });

    it("updateConfig/rollbackConfig: given fields mapped, the rest the schema's defaults", () => {
        const tr = spec(plan(), "opscenter-traefik");
        assert.deepEqual(tr.UpdateConfig, { Parallelism: 1, Delay: 20e9, FailureAction: "rollback", Monitor: 30e9, MaxFailureRatio: 0, Order: "stop-first" });
        // rollbackConfig sets only monitor, order, parallelism: delay 0s and failure action pause by default
        assert.deepEqual(tr.RollbackConfig, { Parallelism: 1, Delay: 0, FailureAction: "pause", Monitor: 30e9, MaxFailureRatio: 0, Order: "stop-first" });
        // no updateConfig block: no UpdateConfig (createServiceUpdateConfig returns nil)
        const bare = edited(plan(), "opscenter-socket-proxy", (i) => {
            delete i.updateConfig;
        });
        assert.equal(translateService(bare).spec.UpdateConfig, undefined);
    });

    it("labels, env, command/args, hostname and mounts (volume, bind read-only)", () => {
        const b = spec(plan(), "opscenter-backend-blue");
        assert.equal(b.Labels["opscenter.color"], "blue");
        assert.ok(b.TaskTemplate.ContainerSpec.Env.includes("DEPLOY_COLOR=blue"));
        const pg = spec(plan(), "opscenter-pg-1");
        assert.deepEqual(pg.TaskTemplate.ContainerSpec.Command, ["/bin/sh", "/etc/ops-center/spilo-entrypoint.sh"]);
        assert.equal(pg.TaskTemplate.ContainerSpec.Hostname, "opscenter-pg-1");
        assert.deepEqual(pg.TaskTemplate.ContainerSpec.Mounts, [
            { Type: "volume", Target: "/home/postgres/pgdata", Source: "opscenter-pg-1-pgdata" },
            { Type: "volume", Target: "/ops-fence", Source: "opscenter-fence", ReadOnly: true },
        ]);
        assert.deepEqual(spec(plan(), "opscenter-socket-proxy").TaskTemplate.ContainerSpec.Mounts, [
            { Type: "bind", Target: "/var/run/docker.sock", Source: "/var/run/docker.sock", ReadOnly: true },
        ]);
        // etcd starts through its rendered entrypoint (renderers/etcd.ts renderEtcdEntrypoint), which execs etcd.
        assert.deepEqual(spec(plan(), "opscenter-etcd-1").TaskTemplate.ContainerSpec.Command, ["/bin/sh", "/etc/ops-center/etcd-entrypoint.sh"]);
    });

    it("dnsConfig, hosts, tmpfs mounts and log driver map as createContainerSpec does", () => {
        const r = edited(plan(), "opscenter-frontend", (i) => {
            i.taskSpec.containerSpec.dnsConfig = { nameservers: ["10.0.0.2"], searches: ["ec2.internal"], options: ["ndots:1"] };
            i.taskSpec.containerSpec.hosts = [{ host: "db", ip: "10.0.0.9" }];
            i.taskSpec.containerSpec.mounts = [{ type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 1048576, mode: 0o1777 } }];
            i.taskSpec.logDriver = { name: "json-file", options: { "max-size": "10m" } };
        });
        const c = translateService(r).spec.TaskTemplate as Any;
        assert.deepEqual(c.ContainerSpec.DNSConfig, { Nameservers: ["10.0.0.2"], Search: ["ec2.internal"], Options: ["ndots:1"] });
        assert.deepEqual(c.ContainerSpec.Hosts, ["10.0.0.9 db"]);
        assert.deepEqual(c.ContainerSpec.Mounts, [{ Type: "tmpfs", Target: "/tmp", Source: "", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } }]);
        assert.deepEqual(c.LogDriver, { Name: "json-file", Options: { "max-size": "10m" } });
    });
});

describe("Swarm translation: nothing is silently dropped", () => {
    it("an unknown field of a service fails, naming it", () => {
        const r = edited(planStack("us-east-1"), "opscenter-frontend", (i) => {
            i.taskSpec.containerSpec.ulimits = [{ name: "nofile", soft: 1, hard: 2 }];
        });
        assert.throws(() => translateService(r), (e: unknown) => e instanceof UnknownField && /ops-frontend-service\.taskSpec\.containerSpec\.ulimits/.test(e.message));
    });

    it("an unknown field deep in a block fails, naming its path", () => {
        const r = edited(planStack("us-east-1"), "opscenter-redis-1", (i) => {
            i.taskSpec.containerSpec.secrets[0].fileOwner = "redis";
        });
        assert.throws(() => translateService(r), /taskSpec\.containerSpec\.secrets\[0\]\.fileOwner/);
    });

    it("an unknown field of a secret fails, naming it", () => {
        const r = byName(planStack("us-east-1"), T.secret, "redis");
        assert.throws(() => translateSecret({ ...r, inputs: { ...r.inputs, driver: "vault" } }), /redis\.driver/);
    });

    it("a Docker resource type the translation does not know fails the plan, naming it", () => {
        const p = planStack("us-east-1");
        const bad: OfflinePlan = { ...p, resources: [...p.resources, { urn: "u", type: "docker:index/volume:Volume", name: "v", inputs: {} }] };
        assert.throws(() => translatePlan(bad), /resource v: type docker:index\/volume:Volume is not translated/);
    });
});

describe("Swarm lab deviations: CPU and memory scaled by one factor, only where a lab node is smaller", () => {
    it("one factor from the smallest lab/instance ratio: r6i.xlarge (4 vCPU) on a 2-CPU node gives 0.5", () => {
        const s = scaling([{ role: "app", instanceType: "t3.large" }, { role: "data", instanceType: "r6i.xlarge" }, { role: "edge", instanceType: "t3.small" }], LAB_NODE);
        assert.equal(s.factor, 0.5);
        assert.deepEqual(s.roles, ["data"]);
    });

    it("an instance type not in the table fails by name", () => {
        assert.throws(() => scaling([{ role: "data", instanceType: "x9.huge" }], LAB_NODE), /instance type x9\.huge \(role data\)/);
    });

    it("data services are scaled, app services keep the plan's figures", () => {
        const plan = planStack("us-east-1");
        const d = applyDeviations(translatePlan(plan), hostsOf(plan), LAB_NODE);
        const pg = d.translation.services.find((s) => s.spec.Name === "opscenter-pg-1")!.spec.TaskTemplate as Json & Any;
        assert.deepEqual(pg.Resources.Limits, { NanoCPUs: 2e9, MemoryBytes: 4 * GiB });
        const be = d.translation.services.find((s) => s.spec.Name === "opscenter-backend-blue")!.spec.TaskTemplate as Json & Any;
        assert.deepEqual(be.Resources.Reservations, { NanoCPUs: 0.5e9, MemoryBytes: 1 * GiB });
        assert.ok(d.lines.some((l) => l.startsWith("CPU and memory") && l.includes("x 0.5") && l.includes("opscenter-pg-1")), d.lines.join("\n"));
    });
});

describe("Swarm lab deviations: without IPVS (this kernel), DNS round robin and host-mode ports, flagged", () => {
    it("every service gets endpoint mode dnsrr, ingress ports become host ports, and the line says it is outside the allowed list", () => {
        const plan = planStack("us-east-1");
        const d = applyDeviations(translatePlan(plan), hostsOf(plan), LAB_NODE, { ipvs: false });
        for (const s of d.translation.services) assert.equal((s.spec.EndpointSpec as Any).Mode, "dnsrr", s.spec.Name);
        const router = d.translation.services.find((s) => s.spec.Name === "opscenter-postgres-router")!.spec.EndpointSpec as Any;
        assert.deepEqual(router.Ports, [{ Protocol: "tcp", TargetPort: 5000, PublishMode: "host", PublishedPort: 5000 }]);
        assert.ok(d.lines.some((l) => l.startsWith("NOT IN THE ISSUE'S ALLOWED LIST") && l.includes("opscenter-postgres-router (5000)")), d.lines.join("\n"));
    });

    it("with IPVS the plan's endpoints are kept", () => {
        const plan = planStack("us-east-1");
        const d = applyDeviations(translatePlan(plan), hostsOf(plan), LAB_NODE, { ipvs: true });
        assert.deepEqual(d.translation.services.find((s) => s.spec.Name === "opscenter-postgres-router")!.spec.EndpointSpec, translatePlan(plan).services.find((s) => s.spec.Name === "opscenter-postgres-router")!.spec.EndpointSpec);
        assert.ok(!d.lines.some((l) => l.includes("NOT IN")));
    });
});

describe("Swarm apply: a re-apply compares the deployed spec as the provider's diff would", () => {
    it("a network named in the plan but held by id on the daemon is a difference (the daemon resolves names to ids)", () => {
        assert.deepEqual(specDiff({ TaskTemplate: { Networks: [{ Target: "opscenter-data", Aliases: [] }] } }, { TaskTemplate: { Networks: [{ Target: "wy4gzy7bor8x9bgkwllohlx14" }] } }), [
            '.TaskTemplate.Networks[0].Target: "opscenter-data" vs "wy4gzy7bor8x9bgkwllohlx14"',
        ]);
    });

    it("values the daemon fills in (runtime, endpoint mode) and zero values are no difference", () => {
        assert.deepEqual(specDiff({ Name: "x", TaskTemplate: { ContainerSpec: { Image: "i", Isolation: "default" } }, EndpointSpec: {} }, {
            Name: "x",
            TaskTemplate: { ContainerSpec: { Image: "i", Isolation: "default" }, ForceUpdate: 0, Runtime: "container" },
            EndpointSpec: { Mode: "vip" },
        }), []);
    });

    it("a value set on the daemon that the plan does not set is a difference", () => {
        assert.deepEqual(specDiff({ TaskTemplate: { ContainerSpec: { Image: "i" } } }, { TaskTemplate: { ContainerSpec: { Image: "i", User: "0" } } }), ['.TaskTemplate.ContainerSpec.User: unset in the plan vs "0"']);
    });
});

describe("Swarm apply: services are created in the engine's order (dependsOn), each convergeConfig member converged first", () => {
    it("the stateful members wait for the previous member of their tier; stateless services wait for nothing", () => {
        const plan = planStack("us-east-1");
        const t = translatePlan(plan);
        const deps = serviceDependencies(plan, t.services);
        const of = (n: string) => (deps.get(n) ?? []).map((s) => s.spec.Name);
        assert.deepEqual(of("opscenter-etcd-1"), []);
        assert.deepEqual(of("opscenter-etcd-2"), ["opscenter-etcd-1"]);
        assert.deepEqual(of("opscenter-etcd-3"), ["opscenter-etcd-2"]);
        assert.deepEqual(of("opscenter-pg-2"), ["opscenter-pg-1"]);
        assert.deepEqual(of("opscenter-frontend"), []);
        for (const n of ["opscenter-etcd-1", "opscenter-pg-1", "opscenter-redis-1"]) {
            assert.ok(t.services.find((s) => s.spec.Name === n)!.converge, `${n} has no convergeConfig: the provider would not wait for it`);
        }
    });

    it("a dependsOn cycle is refused by name, as the engine refuses it", () => {
        const plan = planStack("us-east-1");
        const t = translatePlan(plan);
        const a = t.services.find((s) => s.spec.Name === "opscenter-etcd-1")!;
        const b = t.services.find((s) => s.spec.Name === "opscenter-etcd-2")!;
        const cyclic = { ...a, plan: { ...a.plan, opts: { ...a.plan.opts, dependsOn: [b.plan.urn] } } };
        assert.throws(() => serviceDependencies(plan, [cyclic, b]), /dependsOn cycle among services: .*opscenter-etcd-1.*opscenter-etcd-2/);
    });
});

describe("Swarm lab: what a standby stack's plan asks of its primary region (the lab's stand-in serves exactly that)", () => {
    it("us-east-1 (primary) asks nothing of another region", () => {
        const plan = planStack("us-east-1");
        assert.equal(peerNeeds(translatePlan(plan), new Set(planAddresses(plan).values())), undefined);
    });
    it("us-west-2 (standby): Patroni's standby_cluster router as the replication user, Redis' replicaof, with the plan's own secrets", () => {
        const plan = planStack("us-west-2");
        const t = translatePlan(plan);
        const own = new Set(planAddresses(plan).values());
        const needs = peerNeeds(t, own)!;
        const secret = (file: string) => mountedSecret(t, "opscenter-pg-1", file);
        assert.ok(needs.postgres && needs.postgres.hosts.length === 3 && needs.postgres.hosts.every((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h)), JSON.stringify(needs.postgres?.hosts));
        assert.equal(needs.postgres.port, 5000);
        assert.equal(needs.postgres.user, "standby");
        assert.equal(needs.postgres.password, secret("/run/secrets/pg_replication_password"));
        assert.ok(needs.redis && /^\d+\.\d+\.\d+\.\d+$/.test(needs.redis.host) && needs.redis.port === 6379, JSON.stringify(needs.redis));
        assert.ok(needs.redis.password.length >= 16);
        for (const a of [...needs.postgres.hosts, needs.redis.host]) assert.ok(!own.has(a), `${a} is one of us-west-2's own hosts`);
    });
});

describe("Swarm lab engines: daemon.json is the host's plus the lab's own keys", () => {
    it("fails by name on a key the host's daemon.json already sets", () => {
        assert.throws(() => labDaemonConfig({ "log-level": "info", "log-driver": "json-file" }, { "log-level": "warn" }), /cloud-init sets log-level="info", which the lab would override/);
    });
    it("fails by name on a key that is not the lab's own", () => {
        assert.throws(() => labDaemonConfig({}, { "userland-proxy": false }), /userland-proxy not among the lab's own keys/);
    });
});

describe("Swarm lab deviations: health-check timing scaled by one stated factor, flagged", () => {
    it("interval, timeout and start period x k, retries and the command kept; the line names every service", () => {
        const plan = planStack("us-east-1");
        const t = translatePlan(plan);
        const d = applyDeviations(t, hostsOf(plan), LAB_NODE, { ipvs: true, healthScale: 3 });
        const before = t.services.find((s) => s.spec.Name === "opscenter-etcd-1")!.spec.TaskTemplate.ContainerSpec.Healthcheck as Any;
        const after = d.translation.services.find((s) => s.spec.Name === "opscenter-etcd-1")!.spec.TaskTemplate.ContainerSpec.Healthcheck as Any;
        assert.deepEqual(after, { ...before, Interval: before.Interval * 3, Timeout: before.Timeout * 3, StartPeriod: before.StartPeriod * 3 });
        assert.ok(d.lines.some((l) => l.startsWith("NOT IN THE ISSUE'S ALLOWED LIST, forced by the lab's density") && l.includes("x 3") && l.includes("opscenter-etcd-1")), d.lines.join("\n"));
        const plain = applyDeviations(t, hostsOf(plan), LAB_NODE, { ipvs: true });
        assert.ok(!plain.lines.some((l) => l.includes("density")));
    });
});
