/**
 * The ONLY deviations from the plan the Swarm test tier allows, in one place. `applyDeviations` makes them on a
 * translation (translate.ts) and returns the lines `printDeviations` prints at the start of every run:
 *
 * 1. Image references resolve to local stand-ins: the spec keeps the plan's exact reference; the lab tags a locally
 *    built image (swarm-images/, test/swarm/images.ts) with it, since no registry is reachable.
 * 2. Encrypted overlays are created unencrypted: the plan's `encrypted` option needs IPsec ESP in the kernel, which
 *    this test host lacks. A unit test asserts the production plan still asks for encryption.
 * 3. CPU and memory figures (limits and reservations) of services placed on a role whose instance type is larger than
 *    a lab node are multiplied by ONE factor: the smallest lab/instance ratio (CPUs or memory) over those roles.
 *    Services on roles no larger than a lab node keep the plan's figures, so a plan that over-commits them still fails.
 *
 * And one the kernel forces, NOT among the three the issue allows, made only when the test host lacks IPVS
 * (CONFIG_IP_VS unset, as on this machine: /proc/net/ip_vs absent): Swarm's virtual-IP load balancing and its
 * ingress routing mesh are IPVS, so every service resolves by DNS round robin (EndpointSpec.Mode "dnsrr") and a
 * port the plan publishes through the ingress mesh is published on the task's host instead (PublishMode "host";
 * the Engine refuses ingress ports with dnsrr). It is printed like the others, flagged as outside the allowed list.
 *
 * And one the lab's density forces, also NOT among the three, made when `healthScale` > 1 (SWARM_HEALTH_SCALE,
 * default 3): every health check's interval, timeout and start period x that factor (retries kept). The lab runs all
 * of a stack's hosts (8 engines, ~45 containers, each check a `runc exec`) on one 2-CPU machine, where the plan's
 * hosts have 22 vCPUs: measured, a 3 s check then often takes longer than 3 s, Swarm kills the task as unhealthy,
 * the restarts load the machine further and every service falls to 0 (lab runs of 2026-11-29). It changes when a
 * task is judged, not what is checked.
 */
import * as fs from "node:fs";
import { Json, Translation } from "./translate";

/** EC2 instance sizes (vCPUs, GiB), from AWS's instance type pages (aws.amazon.com/ec2/instance-types: T3, M6i, R6i, C6i). */
export const INSTANCE_SIZES: Readonly<Record<string, { vcpus: number; memoryGiB: number }>> = {
    "t3.micro": { vcpus: 2, memoryGiB: 1 },
    "t3.small": { vcpus: 2, memoryGiB: 2 },
    "t3.medium": { vcpus: 2, memoryGiB: 4 },
    "t3.large": { vcpus: 2, memoryGiB: 8 },
    "t3.xlarge": { vcpus: 4, memoryGiB: 16 },
    "t3.2xlarge": { vcpus: 8, memoryGiB: 32 },
    "m6i.large": { vcpus: 2, memoryGiB: 8 },
    "m6i.xlarge": { vcpus: 4, memoryGiB: 16 },
    "m6i.2xlarge": { vcpus: 8, memoryGiB: 32 },
    "r6i.large": { vcpus: 2, memoryGiB: 16 },
    "r6i.xlarge": { vcpus: 4, memoryGiB: 32 },
    "r6i.2xlarge": { vcpus: 8, memoryGiB: 64 },
    "c6i.large": { vcpus: 2, memoryGiB: 4 },
    "c6i.xlarge": { vcpus: 4, memoryGiB: 8 },
};

/** What a lab node offers the Swarm scheduler (docker info: NCPU, MemTotal). */
export interface NodeCapacity { readonly cpus: number; readonly memoryBytes: number }
/** The part of a plan host the scaling needs (test/swarm/planHosts.ts PlanHost has it). */
export interface HostSize { readonly role: string; readonly instanceType: string }

export interface Scaling {
    /** The one factor (<= 1); 1 when no role is larger than a lab node. */
    readonly factor: number;
    /** Roles whose instance type is larger than a lab node: their services are scaled. */
    readonly roles: string[];
    readonly reason: string;
}

const GiB = 1024 ** 3;

/** The one CPU/memory factor for these hosts on lab nodes of `node`'s size. */
export function scaling(hosts: readonly HostSize[], node: NodeCapacity): Scaling {
    let factor = 1;
    const roles: string[] = [];
    const why: string[] = [];
    for (const role of [...new Set(hosts.map((h) => h.role))].sort()) {
        for (const type of [...new Set(hosts.filter((h) => h.role === role).map((h) => h.instanceType))]) {
            const size = INSTANCE_SIZES[type];
            if (!size) throw new Error(`instance type ${type} (role ${role}): not in test/swarm/deviations.ts INSTANCE_SIZES (${Object.keys(INSTANCE_SIZES).join(", ")})`);
            const r = Math.min(node.cpus / size.vcpus, node.memoryBytes / (size.memoryGiB * GiB));
            if (r < 1) {
                if (!roles.includes(role)) roles.push(role);
                factor = Math.min(factor, r);
                why.push(`${role} ${type} (${size.vcpus} vCPU, ${size.memoryGiB} GiB)`);
            }
        }
    }
    factor = Math.floor(factor * 1000) / 1000;
    const lab = `lab node ${node.cpus} CPUs, ${(node.memoryBytes / GiB).toFixed(1)} GiB`;
    return { factor, roles, reason: roles.length ? `${lab} is smaller than ${why.join(", ")}` : `${lab}: no instance type is larger` };
}

/** Roles a service's constraints allow (node.labels.role==X); every role when none is named. */
function rolesOf(spec: Json, all: string[]): string[] {
    const c = (((spec.TaskTemplate as Json).Placement as Json | undefined)?.Constraints as string[] | undefined) ?? [];
    const named = c.map((x) => /^node\.labels\.role\s*==\s*(\S+)$/.exec(x)?.[1]).filter((x): x is string => !!x);
    return named.length ? named : all;
}

/** The translation with the allowed deviations made, and the lines that state them. */
export function applyDeviations(t: Translation, hosts: readonly HostSize[], node: NodeCapacity, lab: { ipvs: boolean; healthScale?: number } = { ipvs: true }): { translation: Translation; lines: string[] } {
    const lines: string[] = [];
    const images = [...new Set(t.services.map((s) => String(s.spec.TaskTemplate.ContainerSpec.Image)))].sort();
    lines.push(`images: the plan's references, each a local stand-in built and tagged with that exact reference (no registry): ${images.join(", ")}`);

    const unencrypted: string[] = [];
    const networks = t.networks.map((n) => {
        if (!("encrypted" in n.body.Options)) return n;
        unencrypted.push(n.body.Name);
        const { encrypted: _dropped, ...rest } = n.body.Options;
        return { ...n, body: { ...n.body, Options: rest } };
    });
    if (unencrypted.length) lines.push(`overlays created unencrypted (the plan asks encrypted; this kernel has no IPsec ESP): ${unencrypted.join(", ")}`);

    let services = t.services;
    if (!lab.ipvs) {
        const meshed: string[] = [];
        services = services.map((svc) => {
            const ports = ((svc.spec.EndpointSpec as Json | undefined)?.Ports as Json[] | undefined) ?? [];
            const ingress = ports.filter((p) => p.PublishMode !== "host");
            if (ingress.length) meshed.push(`${svc.spec.Name} (${ingress.map((p) => p.PublishedPort).join(", ")})`);
            return { ...svc, spec: { ...svc.spec, EndpointSpec: { ...(svc.spec.EndpointSpec as Json), Mode: "dnsrr", ...(ports.length ? { Ports: ports.map((p) => ({ ...p, PublishMode: "host" })) } : {}) } } };
        });
        lines.push(
            `NOT IN THE ISSUE'S ALLOWED LIST, forced by this kernel (no IPVS): every service resolves by DNS round robin (endpoint mode dnsrr, not the VIP)` +
                `; ports published through the ingress mesh are published in host mode on their task's node: ${meshed.join(", ") || "none"}`,
        );
    }

    const k = lab.healthScale ?? 1;
    if (k > 1) {
        const slowed: string[] = [];
        services = services.map((svc) => {
            const hc = svc.spec.TaskTemplate.ContainerSpec.Healthcheck as Json | undefined;
            if (!hc || !Array.isArray(hc.Test) || hc.Test[0] === "NONE") return svc;
            slowed.push(svc.spec.Name);
            const Healthcheck: Json = { ...hc };
            for (const key of ["Interval", "Timeout", "StartPeriod"]) if (hc[key] !== undefined) Healthcheck[key] = Math.round(Number(hc[key]) * k);
            return { ...svc, spec: { ...svc.spec, TaskTemplate: { ...svc.spec.TaskTemplate, ContainerSpec: { ...svc.spec.TaskTemplate.ContainerSpec, Healthcheck } } } };
        });
        lines.push(`NOT IN THE ISSUE'S ALLOWED LIST, forced by the lab's density (all hosts on one 2-CPU machine): health-check interval, timeout and start period x ${k} (retries kept): ${slowed.join(", ")}`);
    }

    const s = scaling(hosts, node);
    const allRoles = [...new Set(hosts.map((h) => h.role))];
    const scaled: string[] = [];
    services = services.map((svc) => {
        const res = svc.spec.TaskTemplate.Resources as Json | undefined;
        if (!res || s.factor >= 1 || !rolesOf(svc.spec, allRoles).some((r) => s.roles.includes(r))) return svc;
        const scale = (x: Json | undefined) =>
            x && { ...x, NanoCPUs: Math.round(Number(x.NanoCPUs ?? 0) * s.factor), MemoryBytes: Math.round(Number(x.MemoryBytes ?? 0) * s.factor) };
        scaled.push(svc.spec.Name);
        const Resources: Json = {};
        if (res.Limits) Resources.Limits = scale(res.Limits as Json);
        if (res.Reservations) Resources.Reservations = scale(res.Reservations as Json);
        return { ...svc, spec: { ...svc.spec, TaskTemplate: { ...svc.spec.TaskTemplate, Resources } } };
    });
    lines.push(
        s.factor < 1
            ? `CPU and memory (limits and reservations) x ${s.factor} on roles ${s.roles.join(", ")} (${s.reason}): ${scaled.join(", ") || "no service has figures"}`
            : `CPU and memory: the plan's figures (${s.reason})`,
    );
    return { translation: { ...t, networks, services }, lines };
}

/** True when the kernel has IPVS (Swarm's VIP and ingress mesh need it). */
export function kernelHasIpvs(): boolean {
    return fs.existsSync("/proc/net/ip_vs");
}

/** Prints the deviations (every run does, before it creates anything). */
export function printDeviations(lines: string[], out: (s: string) => void = (x) => process.stdout.write(x)): void {
    out(`Swarm lab: the only deviations from the plan:\n${lines.map((l) => `  - ${l}\n`).join("")}`);
}
