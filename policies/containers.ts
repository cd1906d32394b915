/**
 * Swarm service policies (`docker:index/service:Service`): health check, restart policy, limits and
 * reservations, pinned images, no literal secret in environment values or labels, update order by kind
 * (stateless start-first with rollback, stateful stop-first and pinned), networks attached by id.
 */
import { nodeOf, startFirstBlocked } from "./placement";
import { forStackType, forType, isStateful, props, Props, resourcesOf, ResourcePolicy, STATEFUL_IMAGES, StackPolicy, TYPES } from "./support";

export const swarmHealthcheck: ResourcePolicy = {
    name: "swarm-healthcheck",
    description: "Every Swarm service has a container health check, so Swarm replaces a hung task and updates wait for health.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add taskSpec.containerSpec.healthcheck { tests: [\"CMD\", ...], interval, timeout, retries, startPeriod }.",
    validateResource: forType(TYPES.service, (p, _args, report) => {
        const hc = p.taskSpec?.containerSpec?.healthcheck;
        const tests = (hc?.tests ?? []) as string[];
        if (!hc || tests.length === 0) report(`service ${p.name}: no health check`);
        else if (tests[0] === "NONE") report(`service ${p.name}: health check disabled (NONE)`);
    }),
};

export const swarmRestartPolicy: ResourcePolicy = {
    name: "swarm-restart-policy",
    description: "Every Swarm service replaces every task that stops (restart condition any, no cap on attempts).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set taskSpec.restartPolicy { condition: \"any\", delay } without maxAttempts. Under \"on-failure\" a task that exits 0 is \"complete\" and never replaced, and Swarm stops an unhealthy task with SIGTERM, on which most servers exit 0; a cap leaves the service down after the last attempt.",
    validateResource: forType(TYPES.service, (p, _args, report) => {
        const c = p.taskSpec?.restartPolicy?.condition;
        if (c !== "any") report(`service ${p.name}: restartPolicy.condition is ${JSON.stringify(c ?? "unset")}; want "any" (under on-failure a task that exits 0, as after Swarm stops it as unhealthy, is never replaced)`);
        const m = p.taskSpec?.restartPolicy?.maxAttempts;
        if (m !== undefined && Number(m) > 0) report(`service ${p.name}: restartPolicy.maxAttempts is ${m}; want none (the service stays down after the last attempt)`);
    }),
};

export const swarmResources: ResourcePolicy = {
    name: "swarm-resources",
    description: "Every Swarm service has CPU and memory limits and reservations, reservations not above limits.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set taskSpec.resources { limits: { nanoCpus, memoryBytes }, reservation: { nanoCpus, memoryBytes } }.",
    validateResource: forType(TYPES.service, (p, _args, report) => {
        const r = p.taskSpec?.resources ?? {};
        const missing = ["limits.nanoCpus", "limits.memoryBytes", "reservation.nanoCpus", "reservation.memoryBytes"].filter((k) => {
            const [a, b] = k.split(".");
            return !(Number(r[a]?.[b]) > 0);
        });
        if (missing.length) report(`service ${p.name}: no ${missing.join(", ")}`);
        for (const f of ["nanoCpus", "memoryBytes"]) {
            if (Number(r.reservation?.[f]) > Number(r.limits?.[f])) report(`service ${p.name}: reservation.${f} ${r.reservation[f]} exceeds limits.${f} ${r.limits[f]}`);
        }
    }),
};

/** True when an image reference is pinned: a digest, or a tag other than latest. */
export function imagePinned(image: string): boolean {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
    const last = image.split("/").pop() ?? "";
    const tag = last.includes(":") ? last.split(":").pop()! : "";
    return tag !== "" && tag !== "latest";
}

export const swarmImagePinned: ResourcePolicy = {
    name: "swarm-image-pinned",
    description: "Every Swarm service runs a pinned image: a version tag or a digest, never latest or untagged.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Pin the image to a release tag (redis:7.2.6-alpine) or a digest (@sha256:...).",
    validateResource: forType(TYPES.service, (p, _args, report) => {
        const image = String(p.taskSpec?.containerSpec?.image ?? "");
        if (!imagePinned(image)) report(`service ${p.name}: image ${JSON.stringify(image)} is not pinned`);
    }),
};

const SECRET_KEY = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH_PASS)/i;
const SECRET_VALUE: [RegExp, string][] = [
    [/AKIA[0-9A-Z]{16}/, "an AWS access key id"],
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
    [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a password"],
    [/^(gh[pousr]_[A-Za-z0-9]{30,}|xox[baprs]-[A-Za-z0-9-]{10,})$/, "a GitHub or Slack token"],
];

/** Why `key=value` looks like a literal secret, or undefined. `_FILE` keys point at a secret file and pass. */
export function literalSecret(key: string, value: unknown): string | undefined {
    if (typeof value !== "string" || value === "") return undefined;
    for (const [re, what] of SECRET_VALUE) if (re.test(value)) return `value is ${what}`;
    if (SECRET_KEY.test(key) && !/_FILE$/i.test(key) && !value.startsWith("/run/secrets/")) return `${key} carries a literal value`;
    return undefined;
}

export const swarmNoLiteralSecret: ResourcePolicy = {
    name: "swarm-no-literal-secret",
    description: "No Swarm service carries a secret in an environment value or a label: secrets are Swarm secret files.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Ship the value as a docker.Secret mounted under /run/secrets and pass its path in a *_FILE variable.",
    validateResource: forType(TYPES.service, (p, _args, report) => {
        const env = (p.taskSpec?.containerSpec?.env ?? {}) as Record<string, unknown>;
        for (const [k, v] of Object.entries(env)) {
            const why = literalSecret(k, v);
            if (why) report(`service ${p.name}: environment ${k}: ${why}`);
        }
        const labels = [...((p.labels ?? []) as Props[]), ...((p.taskSpec?.containerSpec?.labels ?? []) as Props[])];
        for (const l of labels) {
            const why = literalSecret(String(l.label), l.value);
            if (why) report(`service ${p.name}: label ${l.label}: ${why}`);
        }
    }),
};

export const swarmStatelessUpdate: StackPolicy = {
    name: "swarm-stateless-update",
    description:
        "Stateless services update start-first and roll back on failure; stop-first only where start-first cannot place its extra task (host-mode ports, or replicas filling every eligible host under maxReplicas: lib/fit.ts, the rule ha-rolling-update-room applies).",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set updateConfig { order: \"start-first\", failureAction: \"rollback\", parallelism: 1, monitor } and a rollbackConfig.",
    configSchema: { properties: { statefulImages: { type: "array", items: { type: "string" }, default: STATEFUL_IMAGES } } },
    validateStack: forStackType(TYPES.service, (services, args, report) => {
        const { statefulImages } = args.getConfig<{ statefulImages: string[] }>();
        const nodes = resourcesOf(args, TYPES.instance).map((r) => nodeOf(props(r)));
        for (const s of services) {
            const p = props(s);
            if (isStateful(p, statefulImages)) continue;
            const u = p.updateConfig ?? {};
            const want = startFirstBlocked(p, nodes) ? "stop-first" : "start-first";
            // Docker's defaults: order stop-first, failure_action pause.
            if ((u.order ?? "stop-first") !== want) report(`service ${p.name}: updateConfig.order is ${u.order ?? "stop-first (default)"}, want ${want}`, s.urn);
            if (u.failureAction !== "rollback") report(`service ${p.name}: updateConfig.failureAction is ${u.failureAction ?? "pause (default)"}, want rollback`, s.urn);
        }
    }),
};

/** True when every task of the service is bound to one named node (or one per labelled node, for a global service). */
export function pinned(p: Props): boolean {
    const cs = (p.taskSpec?.placement?.constraints ?? []) as string[];
    if (cs.some((c) => /^node\.(hostname|id)\s*==/.test(c))) return true;
    return p.mode?.global === true && cs.some((c) => /^node\.labels\.\w+\s*==/.test(c));
}

export const swarmStatefulUpdate: ResourcePolicy = {
    name: "swarm-stateful-update",
    description: "Stateful services (a data volume, or a database image) are pinned to a node and update stop-first.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Constrain the service to node.hostname==<host> (or global on labelled nodes) and set updateConfig.order stop-first.",
    configSchema: { properties: { statefulImages: { type: "array", items: { type: "string" }, default: STATEFUL_IMAGES } } },
    validateResource: forType(TYPES.service, (p, args, report) => {
        const { statefulImages } = args.getConfig<{ statefulImages: string[] }>();
        if (!isStateful(p, statefulImages)) return;
        if (!pinned(p)) report(`service ${p.name} keeps data but is not pinned to a node: a reschedule starts it on an empty volume`);
        for (const k of ["updateConfig", "rollbackConfig"]) {
            if (p[k]?.order === "start-first") report(`service ${p.name}: ${k}.order is start-first: two tasks would share one data directory`);
        }
    }),
};

export const swarmNetworksById: StackPolicy = {
    name: "swarm-networks-by-id",
    description: "Swarm services attach networks by id (networksAdvanceds[].id): the provider reads back ids, and its name field is deprecated.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Use networksAdvanceds: [{ id: network.id }] (@pulumi/docker 5.2: the id field, \"Please use docker_network.id\"; name is deprecated).",
    validateStack: forStackType(TYPES.service, (services, args, report) => {
        const networks = resourcesOf(args, TYPES.network).map(props);
        const names = new Set(networks.map((n) => n.name).filter((x) => typeof x === "string"));
        const ids = new Set(networks.map((n) => n.id).filter((x) => typeof x === "string"));
        for (const s of services) {
            const byName: string[] = [];
            const unknown: string[] = [];
            const deprecated: string[] = [];
            for (const a of (props(s).taskSpec?.networksAdvanceds ?? []) as Props[]) {
                if (a.name !== undefined && a.name !== null && a.name !== "") deprecated.push(String(a.name));
                if (a.id === undefined || a.id === null || a.id === "") continue;
                const ref = String(a.id);
                if (names.has(ref) && !ids.has(ref)) byName.push(ref);
                else if (!ids.has(ref) && ids.size > 0 && !/^[a-z0-9]{25}$|^[0-9a-f]{64}$/.test(ref)) unknown.push(ref);
            }
            if (deprecated.length) report(`service ${props(s).name} attaches ${deprecated.join(", ")} through the deprecated name field: use id`, s.urn);
            if (byName.length) report(`service ${props(s).name} attaches ${byName.join(", ")} by name`, s.urn);
            if (unknown.length) report(`service ${props(s).name} attaches ${unknown.join(", ")}: neither a network id of this stack nor a Docker id`, s.urn);
        }
    }),
};

export const containerPolicies = [
    swarmHealthcheck,
    swarmRestartPolicy,
    swarmResources,
    swarmImagePinned,
    swarmNoLiteralSecret,
    swarmStatelessUpdate,
    swarmStatefulUpdate,
    swarmNetworksById,
];
