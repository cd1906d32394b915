/**
 * Pure translation of the offline plan's Docker resources (the inputs the program registered, secret values
 * unwrapped) into Docker Engine API create bodies, the way the `@pulumi/docker` 5.2 provider maps its schema.
 * That provider is the bridged terraform provider kreuzwerker/terraform-provider-docker; each mapping below
 * names the Go function it follows (internal/provider/resource_docker_service_structures.go unless said
 * otherwise). Schema defaults are the ones documented in @pulumi/docker 5.2.0 types/input.d.ts (the bridged
 * provider applies them in Check, before Create).
 *
 * Nothing is dropped silently: an input field this file does not map throws `UnknownField`, naming it.
 * Ids of other plan resources (secretId, configId, a network's id) stay the plan's (mock) ids here; apply.ts
 * resolves them to the ids the daemon returned, as the engine resolves a resource's `.id` output.
 */
import { Buffer } from "node:buffer";
import { OfflinePlan, RecordedResource } from "../../offline/engine";
import { base64Data, bool, fields, Json, labelMap, list, str, UnknownField, unwrapSecrets } from "./translateFields";
import { ServiceBody, translateService } from "./translateService";

export { UnknownField, unwrapSecrets, goDurationNs } from "./translateFields";
export type { Json } from "./translateFields";
export type { ServiceBody } from "./translateService";

export const T = {
    network: "docker:index/network:Network",
    secret: "docker:index/secret:Secret",
    config: "docker:index/serviceConfig:ServiceConfig",
    service: "docker:index/service:Service",
} as const;

export interface NetworkBody { readonly plan: RecordedResource; readonly body: Json & { Name: string; Options: Record<string, string> } }
export interface SecretBody { readonly plan: RecordedResource; readonly body: { Name: string; Data: string; Labels?: Record<string, string> } }
export interface ConfigBody { readonly plan: RecordedResource; readonly body: { Name: string; Data: string; Labels?: Record<string, string> } }
export interface Translation {
    readonly networks: NetworkBody[];
    readonly secrets: SecretBody[];
    readonly configs: ConfigBody[];
    readonly services: ServiceBody[];
}

/** resource_docker_network_funcs.go, resourceDockerNetworkCreate: types.NetworkCreate from the schema. */
export function translateNetwork(r: RecordedResource): NetworkBody {
    const p = `${r.name}`;
    const f = fields(p, unwrapSecrets(r.inputs), ["name", "driver", "options", "labels", "attachable", "internal", "ingress", "ipv6", "ipamDriver", "ipamConfigs", "ipamOptions", "checkDuplicate"]);
    const body: Json & { Name: string; Options: Record<string, string> } = { Name: str(`${p}.name`, f.name ?? r.name), Options: {} };
    if (f.labels !== undefined) body.Labels = labelMap(`${p}.labels`, f.labels);
    if (f.checkDuplicate !== undefined) body.CheckDuplicate = bool(`${p}.checkDuplicate`, f.checkDuplicate);
    if (f.driver !== undefined) body.Driver = str(`${p}.driver`, f.driver);
    if (f.options !== undefined) {
        const o = f.options as Record<string, unknown>;
        body.Options = Object.fromEntries(Object.entries(o).map(([k, x]) => [k, str(`${p}.options.${k}`, x)]));
    }
    if (f.internal !== undefined) body.Internal = bool(`${p}.internal`, f.internal);
    if (f.attachable !== undefined) body.Attachable = bool(`${p}.attachable`, f.attachable);
    if (f.ingress !== undefined) body.Ingress = bool(`${p}.ingress`, f.ingress);
    if (f.ipv6 !== undefined) body.EnableIPv6 = bool(`${p}.ipv6`, f.ipv6);
    // ipamOptsSet: IPAM only when one of the ipam fields is given (ipamConfigSetToIpamConfigs).
    if (f.ipamDriver !== undefined || f.ipamConfigs !== undefined || f.ipamOptions !== undefined) {
        const ipam: Json = {};
        if (f.ipamDriver !== undefined) ipam.Driver = str(`${p}.ipamDriver`, f.ipamDriver);
        if (f.ipamConfigs !== undefined) {
            ipam.Config = list(`${p}.ipamConfigs`, f.ipamConfigs).map((c, i) => {
                const g = fields(`${p}.ipamConfigs[${i}]`, c, ["subnet", "ipRange", "gateway", "auxAddress"]);
                return { Subnet: g.subnet ?? "", IPRange: g.ipRange ?? "", Gateway: g.gateway ?? "", AuxAddress: g.auxAddress ?? {} };
            });
        }
        if (f.ipamOptions !== undefined) ipam.Options = f.ipamOptions;
        body.IPAM = ipam;
    }
    return { plan: r, body };
}

/** resource_docker_secret.go, resourceDockerSecretCreate: swarm.SecretSpec{Name, Data: base64-decoded, Labels}. */
export function translateSecret(r: RecordedResource): SecretBody {
    const f = fields(r.name, unwrapSecrets(r.inputs), ["name", "data", "labels"]);
    const body: SecretBody["body"] = { Name: str(`${r.name}.name`, f.name ?? r.name), Data: base64Data(`${r.name}.data`, f.data) };
    if (f.labels !== undefined) body.Labels = labelMap(`${r.name}.labels`, f.labels);
    return { plan: r, body };
}

/** resource_docker_config.go, resourceDockerConfigCreate: swarm.ConfigSpec{Name, Data: base64-decoded}. */
export function translateConfig(r: RecordedResource): ConfigBody {
    // data_raw is the Pulumi schema's unencoded alternative to data (types/input.d.ts ServiceConfigArgs.dataRaw).
    const f = fields(r.name, unwrapSecrets(r.inputs), ["name", "data", "dataRaw", "labels"]);
    if ((f.data === undefined) === (f.dataRaw === undefined)) throw new UnknownField(`${r.name}: exactly one of data and dataRaw must be set`);
    const data = f.data !== undefined ? base64Data(`${r.name}.data`, f.data) : Buffer.from(str(`${r.name}.dataRaw`, f.dataRaw)).toString("base64");
    const body: ConfigBody["body"] = { Name: str(`${r.name}.name`, f.name ?? r.name), Data: data };
    if (f.labels !== undefined) body.Labels = labelMap(`${r.name}.labels`, f.labels);
    return { plan: r, body };
}

export { translateService };

/** Every Docker resource of the plan, translated; a provider resource or other docker type fails by name. */
export function translatePlan(plan: OfflinePlan): Translation {
    const known = new Set<string>(Object.values(T));
    for (const r of plan.resources) {
        if (r.type.startsWith("docker:") && !known.has(r.type)) throw new UnknownField(`resource ${r.name}: type ${r.type} is not translated (only ${[...known].join(", ")})`);
    }
    const of = (t: string) => plan.resources.filter((r) => r.type === t);
    return {
        networks: of(T.network).map(translateNetwork),
        secrets: of(T.secret).map(translateSecret),
        configs: of(T.config).map(translateConfig),
        services: of(T.service).map(translateService),
    };
}

/**
 * The plain text of the secret a service mounts at `fileName` (the plan's value, as the container reads it), or
 * undefined when the service mounts nothing there.
 */
export function mountedSecret(t: Translation, serviceName: string, fileName: string): string | undefined {
    const spec = t.services.find((x) => x.spec.Name === serviceName)?.spec as Json | undefined;
    const ref = (((spec?.TaskTemplate as Json | undefined)?.ContainerSpec as Json | undefined)?.Secrets as Json[] | undefined)?.find((r) => (r.File as Json).Name === fileName);
    const s = ref && t.secrets.find((x) => x.body.Name === ref.SecretName);
    return s ? Buffer.from(s.body.Data, "base64").toString("utf8") : undefined;
}
