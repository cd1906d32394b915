/**
 * The Swarm hosts of a stack's offline plan, read from what the plan registers: every
 * `aws:ec2/instance:Instance` and the cloud-init user data it boots with (renderers/cloudInit.ts).
 *
 * Nothing here is re-derived from config: hostname, role, zone and join kind are the values the rendered
 * bootstrap script assigns (`NODE_NAME=`, `ROLE=`, `ZONE=`, `JOIN=`), the node labels are what it publishes
 * (`put_param "nodes/$NODE_NAME" String "zone=$ZONE role=$ROLE"`), and the files the lab runs (the bootstrap,
 * the managers' labeller, `/etc/docker/daemon.json`) are the `write_files` of that same user data.
 */
import { parse } from "yaml";
import type { OfflinePlan, RecordedResource } from "../../offline/engine";
import { CLOUD_INIT_DEFAULTS } from "../../renderers/cloudInit";
import { mockIp } from "../../offline/mocks";
import { unwrap } from "../harness";

export const INSTANCE_TYPE = "aws:ec2/instance:Instance";

/** The files of a host's cloud-init that the lab runs, verbatim. */
export interface CloudInitFiles {
    /** `/usr/local/sbin/ops-swarm-bootstrap`: joins the Swarm (run at every boot by its systemd unit). */
    readonly bootstrap: string;
    /** `/usr/local/sbin/ops-swarm-label` (managers only): one labelling pass, run by the managers' timer. */
    readonly labeler?: string;
    /** `/etc/docker/daemon.json`. */
    readonly daemonJson: Record<string, unknown>;
}

/** One Swarm host of the plan. */
export interface PlanHost {
    /** `<role>-<index>`, the Swarm node hostname. */
    hostname: string;
    role: "edge" | "app" | "data";
    /** Availability zone, e.g. us-east-1a. */
    zone: string;
    /** Joins as a manager (or initialises the Swarm). */
    manager: boolean;
    /** Runs `docker swarm init` (app-0). */
    initManager: boolean;
    /** The node labels the host publishes and the managers' labeller applies. */
    labels: Record<string, string>;
    /** EC2 instance type (for the lab's resource scaling). */
    instanceType: string;
    /** The cloud-init files the lab runs on this host. */
    cloudInit: CloudInitFiles;
}

interface WriteFile {
    path: string;
    content: string;
}

/** Value of a single-quoted `NAME='value'` assignment in the rendered bootstrap script. */
function assigned(script: string, name: string, where: string): string {
    const m = new RegExp(`^${name}='([^']*)'$`, "m").exec(script);
    if (!m) throw new Error(`${where}: the bootstrap script assigns no ${name}='...'`);
    return m[1];
}

/** One host from one instance resource; throws naming the instance when its user data is not what we expect. */
export function hostFromInstance(r: RecordedResource): PlanHost {
    const where = `${r.name} (${INSTANCE_TYPE})`;
    const userData = unwrap(r.inputs.userData);
    if (typeof userData !== "string" || !userData.startsWith("#cloud-config\n")) throw new Error(`${where}: userData is not a #cloud-config document`);
    const doc = parse(userData) as { hostname?: string; write_files?: WriteFile[] };
    const files = new Map((doc.write_files ?? []).map((f) => [f.path, f.content]));
    const bootstrap = files.get(CLOUD_INIT_DEFAULTS.bootstrapPath);
    if (!bootstrap) throw new Error(`${where}: cloud-init writes no ${CLOUD_INIT_DEFAULTS.bootstrapPath}`);
    const hostname = assigned(bootstrap, "NODE_NAME", where);
    if (doc.hostname !== hostname) throw new Error(`${where}: cloud-init hostname ${doc.hostname} differs from the bootstrap's NODE_NAME ${hostname}`);
    const role = assigned(bootstrap, "ROLE", where);
    if (role !== "edge" && role !== "app" && role !== "data") throw new Error(`${where}: ROLE=${role} is not edge, app or data`);
    const zone = assigned(bootstrap, "ZONE", where);
    const join = assigned(bootstrap, "JOIN", where);
    if (join !== "init" && join !== "manager" && join !== "worker") throw new Error(`${where}: JOIN=${join} is not init, manager or worker`);
    // The labels are what the host publishes for the managers' labeller: read the published line, then expand it.
    const published = /put_param "nodes\/\$NODE_NAME" String "([^"]*)"/.exec(bootstrap);
    if (!published) throw new Error(`${where}: the bootstrap publishes no nodes/$NODE_NAME labels`);
    const vars: Record<string, string> = { NODE_NAME: hostname, ROLE: role, ZONE: zone, JOIN: join };
    const labels: Record<string, string> = {};
    for (const kv of published[1].split(/\s+/).filter(Boolean)) {
        const [k, v] = kv.split("=", 2);
        labels[k] = v.replace(/\$([A-Z_]+)/g, (_m, n: string) => {
            if (!(n in vars)) throw new Error(`${where}: published label ${kv} uses unknown variable ${n}`);
            return vars[n];
        });
    }
    const manager = join !== "worker";
    const labeler = files.get(CLOUD_INIT_DEFAULTS.labelerPath);
    if (manager && !labeler) throw new Error(`${where}: a manager without the labeller ${CLOUD_INIT_DEFAULTS.labelerPath}`);
    const daemonText = files.get("/etc/docker/daemon.json");
    if (!daemonText) throw new Error(`${where}: cloud-init writes no /etc/docker/daemon.json`);
    const instanceType = unwrap(r.inputs.instanceType);
    if (typeof instanceType !== "string") throw new Error(`${where}: instanceType is not a string`);
    return {
        hostname,
        role,
        zone,
        manager,
        initManager: join === "init",
        labels,
        instanceType,
        cloudInit: { bootstrap, labeler, daemonJson: JSON.parse(daemonText) as Record<string, unknown> },
    };
}

/** The plan's Swarm hosts, init manager first, then managers, then workers (each group by hostname). */
export function hostsFromPlan(plan: OfflinePlan): PlanHost[] {
    const hosts = plan.resources.filter((r) => r.type === INSTANCE_TYPE).map(hostFromInstance);
    if (hosts.length === 0) throw new Error(`plan of ${plan.stack} registers no ${INSTANCE_TYPE} (existingSwarmHost?): no hosts for a lab`);
    const seen = new Set<string>();
    for (const h of hosts) {
        if (seen.has(h.hostname)) throw new Error(`plan of ${plan.stack}: two instances boot as ${h.hostname}`);
        seen.add(h.hostname);
    }
    const inits = hosts.filter((h) => h.initManager);
    if (inits.length !== 1) throw new Error(`plan of ${plan.stack}: ${inits.length} hosts run swarm init (${inits.map((h) => h.hostname).join(", ")}); want exactly 1`);
    const rank = (h: PlanHost) => (h.initManager ? 0 : h.manager ? 1 : 2);
    return hosts.sort((a, b) => rank(a) - rank(b) || a.hostname.localeCompare(b.hostname, "en", { numeric: true }));
}

/** Hostname -> the private address the plan gives that host (the mock engine's, as the plan's other inputs see it). */
export function planAddresses(plan: OfflinePlan): Map<string, string> {
    const addr = new Map<string, string>();
    for (const h of hostsFromPlan(plan)) {
        const inst = plan.resources.find((r) => r.type === INSTANCE_TYPE && r.name.endsWith(`-${h.hostname}`));
        if (!inst) throw new Error(`no ${INSTANCE_TYPE} for host ${h.hostname}`);
        addr.set(h.hostname, mockIp(inst.name));
    }
    return addr;
}
