/**
 * docker:index/service:Service inputs -> the Engine API ServiceSpec, following createServiceSpec and the functions
 * it calls in kreuzwerker/terraform-provider-docker internal/provider/resource_docker_service_structures.go (the
 * provider @pulumi/docker 5.2 bridges). Defaults are the schema's, as documented in @pulumi/docker 5.2.0
 * types/input.d.ts; the bridge applies them before Create. Any field not mapped here throws UnknownField.
 */
import { RecordedResource } from "../../offline/engine";
import { bool, fields, goDurationNs, Json, labelMap, list, num, str, strings, UnknownField, unwrapSecrets } from "./translateFields";

export interface ServiceBody {
    readonly plan: RecordedResource;
    /** The ServiceSpec (POST /services/create body). */
    readonly spec: Json & { Name: string; TaskTemplate: Json & { ContainerSpec: Json }; Mode: Json };
    /** convergeConfig: the provider itself waits for convergence (resource_docker_service_funcs.go) when set. */
    readonly converge?: { delayNs: number; timeoutNs: number };
}

/** createServiceSpec: Name, Labels (createServiceLabels), TaskTemplate, Mode, UpdateConfig, RollbackConfig, EndpointSpec. */
export function translateService(r: RecordedResource): ServiceBody {
    const p = r.name;
    const f = fields(p, unwrapSecrets(r.inputs), ["name", "labels", "taskSpec", "mode", "updateConfig", "rollbackConfig", "endpointSpec", "convergeConfig", "auth"]);
    if (f.auth !== undefined) throw new UnknownField(`${p}.auth: registry credentials are not translated (the lab has no registry; images are local stand-ins)`);
    if (f.taskSpec === undefined) throw new UnknownField(`${p}.taskSpec: required by the schema`);
    const spec: ServiceBody["spec"] = {
        Name: str(`${p}.name`, f.name ?? r.name),
        TaskTemplate: taskSpec(`${p}.taskSpec`, f.taskSpec),
        Mode: mode(`${p}.mode`, f.mode),
        // createServiceEndpointSpec always returns a (possibly empty) EndpointSpec.
        EndpointSpec: endpointSpec(`${p}.endpointSpec`, f.endpointSpec),
    };
    if (f.labels !== undefined) spec.Labels = labelMap(`${p}.labels`, f.labels);
    // createServiceUpdateConfig / createServiceRollbackConfig: only when the block is set (d.GetOk).
    if (f.updateConfig !== undefined) spec.UpdateConfig = updateOrRollback(`${p}.updateConfig`, f.updateConfig);
    if (f.rollbackConfig !== undefined) spec.RollbackConfig = updateOrRollback(`${p}.rollbackConfig`, f.rollbackConfig);
    let converge: ServiceBody["converge"];
    if (f.convergeConfig !== undefined) {
        // createConvergeConfig; defaults delay 7s, timeout 3m (ServiceConvergeConfig docs).
        const c = fields(`${p}.convergeConfig`, f.convergeConfig, ["delay", "timeout"]);
        converge = { delayNs: goDurationNs(`${p}.convergeConfig.delay`, c.delay ?? "7s"), timeoutNs: goDurationNs(`${p}.convergeConfig.timeout`, c.timeout ?? "3m") };
    }
    return { plan: r, spec, converge };
}

/** createServiceTaskSpec. */
function taskSpec(p: string, v: unknown): ServiceBody["spec"]["TaskTemplate"] {
    const f = fields(p, v, ["containerSpec", "resources", "restartPolicy", "placement", "forceUpdate", "runtime", "networksAdvanceds", "logDriver"]);
    if (f.containerSpec === undefined) throw new UnknownField(`${p}.containerSpec: required by the schema`);
    const t: ServiceBody["spec"]["TaskTemplate"] = { ContainerSpec: containerSpec(`${p}.containerSpec`, f.containerSpec) };
    if (f.resources !== undefined) t.Resources = resources(`${p}.resources`, f.resources);
    if (f.restartPolicy !== undefined) t.RestartPolicy = restartPolicy(`${p}.restartPolicy`, f.restartPolicy);
    if (f.placement !== undefined) t.Placement = placement(`${p}.placement`, f.placement);
    if (f.forceUpdate !== undefined) t.ForceUpdate = num(`${p}.forceUpdate`, f.forceUpdate);
    if (f.runtime !== undefined) t.Runtime = str(`${p}.runtime`, f.runtime);
    if (f.networksAdvanceds !== undefined) t.Networks = networks(`${p}.networksAdvanceds`, f.networksAdvanceds);
    if (f.logDriver !== undefined) {
        // createLogDriver
        const l = fields(`${p}.logDriver`, f.logDriver, ["name", "options"]);
        t.LogDriver = { Name: str(`${p}.logDriver.name`, l.name), ...(l.options !== undefined ? { Options: stringMap(`${p}.logDriver.options`, l.options) } : {}) };
    }
    return t;
}

/** createContainerSpec. */
function containerSpec(p: string, v: unknown): Json {
    const f = fields(p, v, [
        "image", "labels", "commands", "args", "hostname", "env", "dir", "user", "groups", "privileges", "readOnly", "mounts", "stopSignal",
        "stopGracePeriod", "healthcheck", "hosts", "dnsConfig", "secrets", "configs", "isolation", "sysctl", "capAdds", "capDrops", "init",
    ]);
    // isolation defaults to "default" in the schema; createContainerSpec copies it.
    const c: Json = { Image: str(`${p}.image`, f.image), Isolation: f.isolation !== undefined ? str(`${p}.isolation`, f.isolation) : "default" };
    if (f.labels !== undefined) c.Labels = labelMap(`${p}.labels`, f.labels);
    if (f.commands !== undefined) c.Command = strings(`${p}.commands`, f.commands);
    if (f.args !== undefined) c.Args = strings(`${p}.args`, f.args);
    if (f.hostname !== undefined) c.Hostname = str(`${p}.hostname`, f.hostname);
    // mapTypeMapValsToStringSlice: "KEY=value" (Go map order is random; sorted here, the daemon does not care).
    if (f.env !== undefined) c.Env = Object.entries(stringMap(`${p}.env`, f.env)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => `${k}=${x}`);
    if (f.dir !== undefined) c.Dir = str(`${p}.dir`, f.dir);
    if (f.user !== undefined) c.User = str(`${p}.user`, f.user);
    if (f.groups !== undefined) c.Groups = strings(`${p}.groups`, f.groups);
    if (f.privileges !== undefined) c.Privileges = privileges(`${p}.privileges`, f.privileges);
    if (f.readOnly !== undefined) c.ReadOnly = bool(`${p}.readOnly`, f.readOnly);
    if (f.mounts !== undefined) c.Mounts = list(`${p}.mounts`, f.mounts).map((m, i) => mount(`${p}.mounts[${i}]`, m));
    if (f.stopSignal !== undefined) c.StopSignal = str(`${p}.stopSignal`, f.stopSignal);
    if (f.stopGracePeriod !== undefined) c.StopGracePeriod = goDurationNs(`${p}.stopGracePeriod`, f.stopGracePeriod);
    if (f.healthcheck !== undefined) {
        // container.HealthConfig; durations default 0s, retries 0 (ServiceTaskSpecContainerSpecHealthcheck docs).
        const h = fields(`${p}.healthcheck`, f.healthcheck, ["tests", "interval", "timeout", "startPeriod", "retries"]);
        c.Healthcheck = {
            Test: strings(`${p}.healthcheck.tests`, h.tests),
            Interval: goDurationNs(`${p}.healthcheck.interval`, h.interval ?? "0s"),
            Timeout: goDurationNs(`${p}.healthcheck.timeout`, h.timeout ?? "0s"),
            StartPeriod: goDurationNs(`${p}.healthcheck.startPeriod`, h.startPeriod ?? "0s"),
            Retries: num(`${p}.healthcheck.retries`, h.retries ?? 0),
        };
    }
    if (f.hosts !== undefined) {
        // extraHostsSetToServiceExtraHosts: "ip hostname" (space, ip first).
        c.Hosts = list(`${p}.hosts`, f.hosts).map((x, i) => {
            const h = fields(`${p}.hosts[${i}]`, x, ["host", "ip"]);
            return `${str(`${p}.hosts[${i}].ip`, h.ip)} ${str(`${p}.hosts[${i}].host`, h.host)}`;
        });
    }
    if (f.dnsConfig !== undefined) {
        const d = fields(`${p}.dnsConfig`, f.dnsConfig, ["nameservers", "searches", "options"]);
        const dns: Json = {};
        if (d.nameservers !== undefined) dns.Nameservers = strings(`${p}.dnsConfig.nameservers`, d.nameservers);
        if (d.searches !== undefined) dns.Search = strings(`${p}.dnsConfig.searches`, d.searches);
        if (d.options !== undefined) dns.Options = strings(`${p}.dnsConfig.options`, d.options);
        c.DNSConfig = dns;
    }
    if (f.secrets !== undefined) c.Secrets = list(`${p}.secrets`, f.secrets).map((s, i) => fileRef(`${p}.secrets[${i}]`, s, "secret"));
    if (f.configs !== undefined) c.Configs = list(`${p}.configs`, f.configs).map((s, i) => fileRef(`${p}.configs[${i}]`, s, "config"));
    if (f.sysctl !== undefined) c.Sysctls = stringMap(`${p}.sysctl`, f.sysctl);
    if (f.capAdds !== undefined) c.CapabilityAdd = strings(`${p}.capAdds`, f.capAdds);
    if (f.capDrops !== undefined) c.CapabilityDrop = strings(`${p}.capDrops`, f.capDrops);
    if (f.init !== undefined) c.Init = bool(`${p}.init`, f.init);
    return c;
}

/** Secrets and configs: swarm.SecretReference / ConfigReference with a file target; uid/gid "0", mode 0o444 by default. */
function fileRef(p: string, v: unknown, kind: "secret" | "config"): Json {
    const id = kind === "secret" ? "secretId" : "configId";
    const name = kind === "secret" ? "secretName" : "configName";
    const f = fields(p, v, [id, name, "fileName", "fileUid", "fileGid", "fileMode"]);
    const ref: Json = {
        File: {
            Name: str(`${p}.fileName`, f.fileName),
            UID: str(`${p}.fileUid`, f.fileUid ?? "0"),
            GID: str(`${p}.fileGid`, f.fileGid ?? "0"),
            Mode: num(`${p}.fileMode`, f.fileMode ?? 0o444),
        },
        [kind === "secret" ? "SecretID" : "ConfigID"]: str(`${p}.${id}`, f[id]),
    };
    if (f[name] !== undefined) ref[kind === "secret" ? "SecretName" : "ConfigName"] = str(`${p}.${name}`, f[name]);
    return ref;
}

/** The mounts block of createContainerSpec: mount.Mount with bind, volume and tmpfs options. */
function mount(p: string, v: unknown): Json {
    const f = fields(p, v, ["type", "target", "source", "readOnly", "bindOptions", "volumeOptions", "tmpfsOptions"]);
    const type = str(`${p}.type`, f.type);
    if (!["bind", "volume", "tmpfs", "npipe", "cluster"].includes(type)) throw new UnknownField(`${p}.type: ${JSON.stringify(type)} is not a mount type (bind, volume, tmpfs, npipe, cluster)`);
    const m: Json = { Type: type, Target: str(`${p}.target`, f.target), Source: f.source !== undefined ? str(`${p}.source`, f.source) : "" };
    if (f.readOnly !== undefined) m.ReadOnly = bool(`${p}.readOnly`, f.readOnly);
    if (f.bindOptions !== undefined) {
        const b = fields(`${p}.bindOptions`, f.bindOptions, ["propagation"]);
        m.BindOptions = b.propagation !== undefined ? { Propagation: str(`${p}.bindOptions.propagation`, b.propagation) } : {};
    }
    if (f.volumeOptions !== undefined) {
        const o = fields(`${p}.volumeOptions`, f.volumeOptions, ["noCopy", "labels", "driverName", "driverOptions"]);
        const vo: Json = {};
        if (o.noCopy !== undefined) vo.NoCopy = bool(`${p}.volumeOptions.noCopy`, o.noCopy);
        if (o.labels !== undefined) vo.Labels = labelMap(`${p}.volumeOptions.labels`, o.labels);
        if (o.driverName !== undefined || o.driverOptions !== undefined) {
            vo.DriverConfig = {
                ...(o.driverName !== undefined ? { Name: str(`${p}.volumeOptions.driverName`, o.driverName) } : {}),
                ...(o.driverOptions !== undefined ? { Options: stringMap(`${p}.volumeOptions.driverOptions`, o.driverOptions) } : {}),
            };
        }
        m.VolumeOptions = vo;
    }
    if (f.tmpfsOptions !== undefined) {
        const o = fields(`${p}.tmpfsOptions`, f.tmpfsOptions, ["sizeBytes", "mode"]);
        m.TmpfsOptions = {
            ...(o.sizeBytes !== undefined ? { SizeBytes: num(`${p}.tmpfsOptions.sizeBytes`, o.sizeBytes) } : {}),
            ...(o.mode !== undefined ? { Mode: num(`${p}.tmpfsOptions.mode`, o.mode) } : {}),
        };
    }
    return m;
}

/** The privileges block of createContainerSpec. */
function privileges(p: string, v: unknown): Json {
    const f = fields(p, v, ["credentialSpec", "seLinuxContext"]);
    const out: Json = {};
    if (f.credentialSpec !== undefined) {
        const c = fields(`${p}.credentialSpec`, f.credentialSpec, ["file", "registry"]);
        // The provider assigns registry to CredentialSpec.File too (a bug upstream); we send what was asked.
        out.CredentialSpec = { ...(c.file !== undefined ? { File: str(`${p}.credentialSpec.file`, c.file) } : {}), ...(c.registry !== undefined ? { Registry: str(`${p}.credentialSpec.registry`, c.registry) } : {}) };
    }
    if (f.seLinuxContext !== undefined) {
        const s = fields(`${p}.seLinuxContext`, f.seLinuxContext, ["disable", "user", "role", "type", "level"]);
        out.SELinuxContext = { Disable: s.disable ?? false, User: s.user ?? "", Role: s.role ?? "", Type: s.type ?? "", Level: s.level ?? "" };
    }
    return out;
}

/** createResources: Limits{NanoCPUs, MemoryBytes}, Reservations{NanoCPUs, MemoryBytes, GenericResources}. */
function resources(p: string, v: unknown): Json {
    const f = fields(p, v, ["limits", "reservation"]);
    const out: Json = {};
    if (f.limits !== undefined) {
        const l = fields(`${p}.limits`, f.limits, ["nanoCpus", "memoryBytes"]);
        out.Limits = { NanoCPUs: num(`${p}.limits.nanoCpus`, l.nanoCpus ?? 0), MemoryBytes: num(`${p}.limits.memoryBytes`, l.memoryBytes ?? 0) };
    }
    if (f.reservation !== undefined) {
        const r = fields(`${p}.reservation`, f.reservation, ["nanoCpus", "memoryBytes", "genericResources"]);
        const res: Json = { NanoCPUs: num(`${p}.reservation.nanoCpus`, r.nanoCpus ?? 0), MemoryBytes: num(`${p}.reservation.memoryBytes`, r.memoryBytes ?? 0) };
        if (r.genericResources !== undefined) {
            // createGenericResources: "kind=value" strings.
            const g = fields(`${p}.reservation.genericResources`, r.genericResources, ["namedResourcesSpecs", "discreteResourcesSpecs"]);
            const named = g.namedResourcesSpecs !== undefined ? strings(`${p}.reservation.genericResources.namedResourcesSpecs`, g.namedResourcesSpecs) : [];
            const discrete = g.discreteResourcesSpecs !== undefined ? strings(`${p}.reservation.genericResources.discreteResourcesSpecs`, g.discreteResourcesSpecs) : [];
            res.GenericResources = [
                ...named.map((s) => ({ NamedResourceSpec: { Kind: s.split("=")[0], Value: s.split("=")[1] } })),
                ...discrete.map((s) => ({ DiscreteResourceSpec: { Kind: s.split("=")[0], Value: Number(s.split("=")[1]) } })),
            ];
        }
        out.Reservations = res;
    }
    return out;
}

/** createRestartPolicy. */
function restartPolicy(p: string, v: unknown): Json {
    const f = fields(p, v, ["condition", "delay", "maxAttempts", "window"]);
    const out: Json = {};
    if (f.condition !== undefined) {
        const c = str(`${p}.condition`, f.condition);
        if (!["none", "on-failure", "any"].includes(c)) throw new UnknownField(`${p}.condition: ${JSON.stringify(c)} is not none, on-failure or any`);
        out.Condition = c;
    }
    if (f.delay !== undefined) out.Delay = goDurationNs(`${p}.delay`, f.delay);
    if (f.maxAttempts !== undefined) out.MaxAttempts = num(`${p}.maxAttempts`, f.maxAttempts);
    if (f.window !== undefined) out.Window = goDurationNs(`${p}.window`, f.window);
    return out;
}

/** createPlacement: Constraints, Preferences (stringSetToPlacementPrefs: "spread=<descriptor>"), Platforms, MaxReplicas. */
function placement(p: string, v: unknown): Json {
    const f = fields(p, v, ["constraints", "prefs", "platforms", "maxReplicas"]);
    const out: Json = {};
    if (f.constraints !== undefined) out.Constraints = strings(`${p}.constraints`, f.constraints);
    if (f.prefs !== undefined) {
        // The provider puts the whole pref string into SpreadDescriptor ("spread=node.labels.zone" as given); the daemon
        // (swarmkit) takes the descriptor after "spread=" only from the CLI. We send what the provider sends.
        out.Preferences = strings(`${p}.prefs`, f.prefs).map((s) => ({ Spread: { SpreadDescriptor: s } }));
    }
    if (f.platforms !== undefined) {
        out.Platforms = list(`${p}.platforms`, f.platforms).map((x, i) => {
            const q = fields(`${p}.platforms[${i}]`, x, ["architecture", "os"]);
            return { Architecture: str(`${p}.platforms[${i}].architecture`, q.architecture), OS: str(`${p}.platforms[${i}].os`, q.os) };
        });
    }
    out.MaxReplicas = f.maxReplicas !== undefined ? num(`${p}.maxReplicas`, f.maxReplicas) : 0;
    return out;
}

/** createServiceAdvancedNetworks: Target is the id when set, else the name; aliases; driver_opts "k=v". */
function networks(p: string, v: unknown): Json[] {
    return list(p, v).map((x, i) => {
        const q = `${p}[${i}]`;
        const f = fields(q, x, ["id", "name", "aliases", "driverOpts"]);
        const target = f.id !== undefined && f.id !== "" ? str(`${q}.id`, f.id) : f.name !== undefined && f.name !== "" ? str(`${q}.name`, f.name) : undefined;
        if (target === undefined) throw new UnknownField(`${q}: network 'name' or 'id' must be specified`);
        const n: Json = { Target: target, Aliases: f.aliases !== undefined ? strings(`${q}.aliases`, f.aliases) : [] };
        if (f.driverOpts !== undefined) n.DriverOpts = Object.fromEntries(strings(`${q}.driverOpts`, f.driverOpts).map((s) => [s.split("=")[0], s.split("=").slice(1).join("=")]));
        return n;
    });
}

/** createServiceMode: replicated{replicas (default 1)} or global. */
function mode(p: string, v: unknown): Json {
    if (v === undefined) return { Replicated: { Replicas: 1 } };
    const f = fields(p, v, ["replicated", "global"]);
    if (f.global !== undefined && bool(`${p}.global`, f.global)) {
        if (f.replicated !== undefined) throw new UnknownField(`${p}: both replicated and global`);
        return { Global: {} };
    }
    const r = f.replicated !== undefined ? fields(`${p}.replicated`, f.replicated, ["replicas"]) : {};
    return { Replicated: { Replicas: num(`${p}.replicated.replicas`, r.replicas ?? 1) } };
}

/** createUpdateOrRollbackConfig; defaults parallelism 1, delay 0s, failureAction pause, monitor 5s, ratio 0.0, order stop-first. */
function updateOrRollback(p: string, v: unknown): Json {
    const f = fields(p, v, ["parallelism", "delay", "failureAction", "monitor", "maxFailureRatio", "order"]);
    const ratio = Number(str(`${p}.maxFailureRatio`, f.maxFailureRatio ?? "0.0"));
    if (!Number.isFinite(ratio)) throw new UnknownField(`${p}.maxFailureRatio: ${JSON.stringify(f.maxFailureRatio)} is not a number`);
    const order = str(`${p}.order`, f.order ?? "stop-first");
    if (!["stop-first", "start-first"].includes(order)) throw new UnknownField(`${p}.order: ${JSON.stringify(order)} is not stop-first or start-first`);
    return {
        Parallelism: num(`${p}.parallelism`, f.parallelism ?? 1),
        Delay: goDurationNs(`${p}.delay`, f.delay ?? "0s"),
        FailureAction: str(`${p}.failureAction`, f.failureAction ?? "pause"),
        Monitor: goDurationNs(`${p}.monitor`, f.monitor ?? "5s"),
        MaxFailureRatio: ratio,
        Order: order,
    };
}

/** createServiceEndpointSpec + portSetToServicePorts; port protocol defaults tcp, publishMode ingress. */
function endpointSpec(p: string, v: unknown): Json {
    if (v === undefined) return {};
    const f = fields(p, v, ["mode", "ports"]);
    const out: Json = {};
    if (f.mode !== undefined) out.Mode = str(`${p}.mode`, f.mode);
    if (f.ports !== undefined) {
        out.Ports = list(`${p}.ports`, f.ports).map((x, i) => {
            const q = `${p}.ports[${i}]`;
            const o = fields(q, x, ["name", "protocol", "targetPort", "publishedPort", "publishMode"]);
            const port: Json = {
                Protocol: str(`${q}.protocol`, o.protocol ?? "tcp"),
                TargetPort: num(`${q}.targetPort`, o.targetPort),
                PublishMode: str(`${q}.publishMode`, o.publishMode ?? "ingress"),
            };
            if (o.name !== undefined) port.Name = str(`${q}.name`, o.name);
            if (o.publishedPort !== undefined) port.PublishedPort = num(`${q}.publishedPort`, o.publishedPort);
            return port;
        });
    }
    return out;
}

function stringMap(p: string, v: unknown): Record<string, string> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new UnknownField(`${p}: expected a map of strings`);
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, str(`${p}.${k}`, x)]));
}
