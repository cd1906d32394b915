/**
 * Applies a translated plan (translate.ts, after deviations.ts) to a Swarm manager through dockerode, the way the
 * provider's resources would under `pulumi up`: networks, then secrets, then configs, then services (the
 * dependency order of their `.id` outputs), each reference to another plan resource's id (secretId, configId, a
 * network's id) resolved to the id the daemon returned, as the engine resolves an Output. An existing object of
 * the same name is the one a previous apply made (the provider's state): kept when its spec matches, a service
 * updated (ServiceUpdate at its version, resource_docker_service_funcs.go resourceDockerServiceUpdate) when not.
 * Services are created the way the engine schedules them: a service's create starts only once every service it
 * `dependsOn` (directly, or through a component's children) has finished, independent ones in parallel; and a
 * service with `convergeConfig` finishes only when the provider's wait does (resourceDockerServiceCreate: after
 * `delay`, poll every 5 s until every task that should run is running on an active node, up to `timeout`; on
 * timeout the provider deletes the service and fails, and the engine creates nothing that depends on it. The lab
 * keeps the failed service, to say why it failed, and reports it in `failed`).
 * waitConverged then waits, bounded, until every service runs its desired tasks; a task with a health check reaches
 * "running" only once the check has passed (the Swarm executor waits for "healthy" before reporting it).
 */
import Docker from "dockerode";
import { OfflinePlan, RecordedResource } from "../../offline/engine";
import { sleep } from "./labSystem";
import { Json, ServiceBody, T, Translation } from "./translate";

export interface ApplyReport {
    /** Swarm names created by this apply. */
    readonly created: string[];
    /** Services updated, with what differed (path: plan value vs deployed value). */
    readonly updated: { name: string; diff: string[] }[];
    /** Swarm names found as the plan says. */
    readonly unchanged: string[];
    /** `<type>::<resource name>` of the plan -> daemon id, for networks, secrets and configs. */
    readonly ids: Map<string, string>;
    /** Services whose create or update failed (the provider's convergence wait timed out, or the daemon refused). */
    readonly failed: { name: string; error: string }[];
    /** Services not created or updated because a service they depend on failed (the engine skips dependents). */
    readonly skipped: string[];
}

/** The plan resource a mock id names: the mock engine's ids are `<resource name>-<8 hex>` (offline/mocks.ts). */
function ownerOf(id: string, candidates: RecordedResource[]): RecordedResource | undefined {
    const hits = candidates.filter((r) => id.startsWith(`${r.name}-`) && /^[0-9a-f]{8}$/.test(id.slice(r.name.length + 1)));
    if (hits.length > 1) throw new Error(`plan id ${id} matches several resources: ${hits.map((h) => h.name).join(", ")}`);
    return hits[0];
}

async function findByName<T extends { ID?: string; Id?: string; Spec?: { Name?: string }; Name?: string }>(list: () => Promise<T[]>, name: string): Promise<T | undefined> {
    return (await list()).find((x) => (x.Spec?.Name ?? x.Name) === name);
}

/** Creates (or finds) every object of `t` on the Swarm at `docker`, in dependency order. */
export async function applyTranslation(docker: Docker, plan: OfflinePlan, t: Translation, log: (s: string) => void = () => {}): Promise<ApplyReport> {
    const created: string[] = [];
    const unchanged: string[] = [];
    const updated: { name: string; diff: string[] }[] = [];
    const ids = new Map<string, string>();
    const owners = plan.resources.filter((r) => r.type === T.network || r.type === T.secret || r.type === T.config);
    const planIdOf = (r: RecordedResource) => `${r.type}::${r.name}`; // refs are resolved to their resource through ownerOf

    for (const n of t.networks) {
        const have = await findByName(() => docker.listNetworks({ filters: { name: [n.body.Name] } }) as Promise<{ Id: string; Name: string }[]>, n.body.Name);
        if (have) {
            ids.set(planIdOf(n.plan), have.Id);
            unchanged.push(n.body.Name);
            continue;
        }
        const net = await docker.createNetwork(n.body as unknown as Docker.NetworkCreateOptions);
        ids.set(planIdOf(n.plan), net.id);
        created.push(n.body.Name);
    }
    for (const [items, kind] of [[t.secrets, "secret"], [t.configs, "config"]] as const) {
        for (const s of items) {
            const list = kind === "secret" ? () => docker.listSecrets({ filters: { name: [s.body.Name] } }) : () => docker.listConfigs({ filters: { name: [s.body.Name] } });
            const have = (await findByName(list as () => Promise<{ ID: string; Spec?: { Name?: string } }[]>, s.body.Name)) as { ID: string } | undefined;
            if (have) {
                ids.set(planIdOf(s.plan), have.ID);
                unchanged.push(s.body.Name);
                continue;
            }
            const res = (kind === "secret" ? await docker.createSecret(s.body) : await docker.createConfig(s.body)) as { id?: string; ID?: string };
            ids.set(planIdOf(s.plan), String(res.id ?? res.ID));
            created.push(s.body.Name);
        }
    }

    const resolve = (planId: string, what: string, mustResolve: boolean): string => {
        const owner = ownerOf(planId, owners);
        if (!owner) {
            if (mustResolve) throw new Error(`${what} ${planId}: no network, secret or config of the plan has this id`);
            return planId; // a network named, not referenced by id: the daemon resolves the name
        }
        const real = ids.get(planIdOf(owner));
        if (!real) throw new Error(`${what} ${planId}: plan resource ${owner.name} was not created`);
        return real;
    };

    const failed: { name: string; error: string }[] = [];
    const skipped: string[] = [];
    const applyOne = async (svc: ServiceBody): Promise<void> => {
        const spec = JSON.parse(JSON.stringify(svc.spec)) as Json & { TaskTemplate: Json & { ContainerSpec: Json } };
        const cs = spec.TaskTemplate.ContainerSpec;
        for (const s of (cs.Secrets as Json[] | undefined) ?? []) s.SecretID = resolve(String(s.SecretID), `${spec.Name}: secret`, true);
        for (const c of (cs.Configs as Json[] | undefined) ?? []) c.ConfigID = resolve(String(c.ConfigID), `${spec.Name}: config`, true);
        for (const n of (spec.TaskTemplate.Networks as Json[] | undefined) ?? []) n.Target = resolve(String(n.Target), `${spec.Name}: network`, false);

        const have = (await docker.listServices({ filters: { name: [String(spec.Name)] } })).find((s) => s.Spec?.Name === spec.Name);
        if (!have) {
            await docker.createService(spec as unknown as Docker.CreateServiceOptions);
            created.push(String(spec.Name));
            if (svc.converge) await convergeCreate(docker, String(spec.Name), svc.converge, log);
            return;
        }
        const diff = specDiff(spec, have.Spec as unknown as Json);
        if (diff.length === 0) {
            unchanged.push(String(spec.Name));
            return;
        }
        log(`service ${spec.Name} differs from the deployed one: ${diff.join("; ")}\n`);
        await docker.getService(have.ID).update({ _query: { version: have.Version?.Index }, _body: spec } as never);
        updated.push({ name: String(spec.Name), diff });
        if (svc.converge) await convergeUpdate(docker, String(spec.Name), svc.converge, log);
    };

    const deps = serviceDependencies(plan, t.services);
    const done = new Map<string, Promise<boolean>>();
    const run = (svc: ServiceBody): Promise<boolean> => {
        const name = svc.spec.Name;
        let p = done.get(name);
        if (p) return p;
        p = (async () => {
            const before = await Promise.all((deps.get(name) ?? []).map(run));
            if (before.some((ok) => !ok)) {
                skipped.push(name);
                return false;
            }
            try {
                await applyOne(svc);
                return true;
            } catch (e) {
                const error = e instanceof Error ? e.message : String(e);
                failed.push({ name, error });
                log(`service ${name}: ${error}\n`);
                return false;
            }
        })();
        done.set(name, p);
        return p;
    };
    await Promise.all(t.services.map(run));
    return { created, updated, unchanged, ids, failed, skipped };
}

/**
 * Service name -> the services it must wait for: its `dependsOn` URNs (recorded by the offline engine), each a
 * service of the plan or a component whose descendant services all count. Dependencies outside the Docker layer
 * (hosts, buckets) are the cloud's and exist before the lab applies. A cycle is an error, as for the engine.
 */
export function serviceDependencies(plan: OfflinePlan, services: readonly ServiceBody[]): Map<string, ServiceBody[]> {
    const byUrn = new Map(services.map((s) => [s.plan.urn, s]));
    const parentOf = new Map(plan.resources.map((r) => [r.urn, r.parent]));
    const under = (urn: string): ServiceBody[] =>
        services.filter((s) => {
            for (let u: string | undefined = s.plan.parent, i = 0; u && i < 50; u = parentOf.get(u), i++) if (u === urn) return true;
            return false;
        });
    const out = new Map<string, ServiceBody[]>();
    for (const s of services) {
        const list = (s.plan.opts?.dependsOn ?? []).flatMap((urn) => (byUrn.has(urn) ? [byUrn.get(urn)!] : under(urn)));
        out.set(s.spec.Name, [...new Set(list)].filter((d) => d !== s));
    }
    const seen = new Set<string>();
    const visiting = new Set<string>();
    const visit = (name: string, path: string[]) => {
        if (visiting.has(name)) throw new Error(`dependsOn cycle among services: ${[...path, name].join(" -> ")}`);
        if (seen.has(name)) return;
        visiting.add(name);
        for (const d of out.get(name) ?? []) visit(d.spec.Name, [...path, name]);
        visiting.delete(name);
        seen.add(name);
    };
    for (const s of services) visit(s.spec.Name, []);
    return out;
}

/** resourceDockerServiceCreate's wait: after `delay`, every 5 s, until the service's tasks all run on active nodes. */
async function convergeCreate(docker: Docker, name: string, c: NonNullable<ServiceBody["converge"]>, log: (s: string) => void): Promise<void> {
    const t0 = Date.now();
    await sleep(c.delayNs / 1e6);
    let last: ServiceProgress | undefined;
    while (Date.now() - t0 < c.timeoutNs / 1e6) {
        [last] = await progress(docker, [name]);
        if (last.desired > 0 && last.running >= last.desired) {
            log(`service ${name}: converged in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
            return;
        }
        await sleep(5000);
    }
    throw new Error(`did not converge after ${c.timeoutNs / 1e9} s (the provider deletes it and fails): ${last ? `${last.running}/${last.desired} running; ${last.problems.join("; ")}` : ""}`);
}

/** resourceDockerServiceUpdate's wait: until UpdateStatus is "completed"; paused or rolled back is an error. */
async function convergeUpdate(docker: Docker, name: string, c: NonNullable<ServiceBody["converge"]>, log: (s: string) => void): Promise<void> {
    const t0 = Date.now();
    await sleep(7000); // the provider's update wait has a fixed 7 s delay
    while (Date.now() - t0 < c.timeoutNs / 1e6) {
        const s = (await docker.listServices({ filters: { name: [name] } })).find((x) => x.Spec?.Name === name) as { UpdateStatus?: { State?: string; Message?: string } } | undefined;
        const st = s?.UpdateStatus?.State;
        if (st === "completed" || st === undefined) {
            log(`service ${name}: update completed in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
            return;
        }
        if (st === "paused" || st === "rollback_paused" || st === "rollback_completed") throw new Error(`service update ${st}: ${s?.UpdateStatus?.Message ?? ""}`);
        await sleep(5000);
    }
    throw new Error(`update did not converge after ${c.timeoutNs / 1e9} s`);
}

/**
 * Values the daemon fills in when the spec leaves them out; the provider's schema marks these Computed (task_spec
 * runtime, endpoint_spec mode), so reading them back is no diff.
 */
const DAEMON_DEFAULTS: Record<string, unknown> = { ".TaskTemplate.Runtime": "container", ".EndpointSpec.Mode": "vip" };

const isZero = (v: unknown): boolean =>
    v === undefined || v === null || v === 0 || v === "" || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && !Array.isArray(v) && Object.values(v as object).every(isZero));

/**
 * Where the deployed spec differs from the one we would send: every value we send must be there, and anything the
 * daemon holds beyond it must be a zero value (what an unset optional field of the provider's schema reads back as).
 */
export function specDiff(want: unknown, have: unknown, path = ""): string[] {
    if (Array.isArray(want)) {
        if (!Array.isArray(have)) return isZero(want) && isZero(have) ? [] : [`${path}: ${JSON.stringify(want)} vs ${JSON.stringify(have)}`];
        if (want.length !== have.length) return [`${path}: ${want.length} items vs ${have.length}: ${JSON.stringify(want)} vs ${JSON.stringify(have)}`];
        return want.flatMap((w, i) => specDiff(w, have[i], `${path}[${i}]`));
    }
    if (want !== null && typeof want === "object") {
        if (have === null || typeof have !== "object") return isZero(want) && isZero(have) ? [] : [`${path}: ${JSON.stringify(want)} vs ${JSON.stringify(have)}`];
        const w = want as Json;
        const h = have as Json;
        // Go's JSON is case-insensitive on input; the daemon answers with its own field names.
        const hk = new Map(Object.keys(h).map((k) => [k.toLowerCase(), k]));
        const keys = new Set([...Object.keys(w).map((k) => k.toLowerCase()), ...hk.keys()]);
        const wk = new Map(Object.keys(w).map((k) => [k.toLowerCase(), k]));
        return [...keys].flatMap((k) => {
            const wv = wk.has(k) ? w[wk.get(k)!] : undefined;
            const hv = hk.has(k) ? h[hk.get(k)!] : undefined;
            if (wv === undefined) return isZero(hv) || DAEMON_DEFAULTS[`${path}.${hk.get(k)}`] === hv ? [] : [`${path}.${hk.get(k)}: unset in the plan vs ${JSON.stringify(hv)}`];
            return specDiff(wv, hv, `${path}.${wk.get(k)}`);
        });
    }
    if (want === have || (isZero(want) && isZero(have))) return [];
    return [`${path}: ${JSON.stringify(want)} vs ${JSON.stringify(have)}`];
}

export interface ServiceProgress { name: string; desired: number; running: number; problems: string[] }

/** Desired vs running tasks of each service, with the latest errors of tasks that are not running. */
export async function progress(docker: Docker, names: string[]): Promise<ServiceProgress[]> {
    const services = await docker.listServices({ status: true } as {});
    const out: ServiceProgress[] = [];
    for (const name of names) {
        const s = services.find((x) => x.Spec?.Name === name) as (Docker.Service & { ServiceStatus?: { DesiredTasks: number; RunningTasks: number } }) | undefined;
        if (!s) {
            out.push({ name, desired: -1, running: 0, problems: ["no such service"] });
            continue;
        }
        const tasks = (await docker.listTasks({ filters: { service: [s.ID], "desired-state": ["running"] } })) as Json[];
        const running = tasks.filter((x) => (x.Status as Json).State === "running").length;
        const desired = s.ServiceStatus?.DesiredTasks ?? Number(((s.Spec as Json).Mode as Json & { Replicated?: { Replicas?: number } }).Replicated?.Replicas ?? 0);
        const problems = tasks
            .filter((x) => (x.Status as Json).State !== "running")
            .map((x) => `${(x.Status as Json).State}${(x.Status as Json).Err ? `: ${(x.Status as Json).Err}` : ""}${(x.Status as Json).Message ? ` (${(x.Status as Json).Message})` : ""}`);
        // The latest failed attempt says why a task keeps restarting (its exit, an unreadable secret, a failed health check).
        const all = (await docker.listTasks({ filters: { service: [s.ID] } })) as Json[];
        const lastFailed = all
            .filter((x) => ["failed", "rejected"].includes(String((x.Status as Json).State)))
            .sort((a, b) => String((b.Status as Json).Timestamp).localeCompare(String((a.Status as Json).Timestamp)))[0];
        if (lastFailed && running < desired) problems.push(`last failed attempt: ${(lastFailed.Status as Json).Err ?? (lastFailed.Status as Json).State}`);
        const update = (s as unknown as { UpdateStatus?: { State?: string; Message?: string } }).UpdateStatus;
        if (update?.State && !["completed", "rollback_completed"].includes(update.State)) problems.push(`update ${update.State}: ${update.Message ?? ""}`);
        out.push({ name, desired, running, problems: [...new Set(problems)] });
    }
    return out;
}

/** Waits until every service runs its desired tasks (health checks passed) and no update is in flight; throws, per service, after `timeoutMs`. */
export async function waitConverged(docker: Docker, names: string[], timeoutMs: number, log: (s: string) => void = () => {}): Promise<number> {
    const start = Date.now();
    let last: ServiceProgress[] = [];
    while (Date.now() - start < timeoutMs) {
        last = await progress(docker, names);
        if (last.every((p) => p.desired > 0 && p.running >= p.desired && p.problems.length === 0)) return Date.now() - start;
        await new Promise((r) => setTimeout(r, 2000));
    }
    const bad = last.filter((p) => !(p.desired > 0 && p.running >= p.desired && p.problems.length === 0));
    log(bad.map((p) => `  ${p.name}: ${p.running}/${p.desired} running; ${p.problems.join("; ")}\n`).join(""));
    throw new Error(`not converged after ${timeoutMs / 1000} s: ${bad.map((p) => `${p.name} ${p.running}/${p.desired} (${p.problems.join("; ") || "starting"})`).join(", ")}`);
}

/** Ids of a service's tasks that should run, and the service's spec version. */
export async function serviceState(docker: Docker, name: string): Promise<{ version: number; tasks: string[] }> {
    const s = (await docker.listServices({ filters: { name: [name] } })).find((x) => x.Spec?.Name === name);
    if (!s) throw new Error(`no service ${name}`);
    const tasks = (await docker.listTasks({ filters: { service: [s.ID], "desired-state": ["running"] } })) as { ID: string }[];
    return { version: s.Version?.Index ?? -1, tasks: tasks.map((x) => x.ID).sort() };
}
