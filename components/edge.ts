import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createHash } from "node:crypto";
import { edgeParameterNames, renderKeepalivedApplyDocument } from "../renderers/edgeHost";
import { renderEipRecheck } from "../renderers/eipRecheck";
import { renderKeepalivedAuth, renderKeepalivedConf, renderNotifyMaster } from "../renderers/keepalived";
import { renderTraefikDynamicTls, renderTraefikStatic, TRAEFIK_DEFAULTS, TraefikInput, TraefikTls } from "../renderers/traefik";
import { swarmResources } from "../lib/sizing";
import { healthcheck, placeOn, statelessRollback, statelessUpdate } from "../lib/swarmSpec";
import { mountConfig, mountSecret, swarmConfig, swarmSecret, SwarmContext, attachNetwork } from "./swarmKit";

/** One edge host, as created by SwarmHosts. */
export interface EdgeHost {
    /** Host name (keepalived's router_id). */
    readonly name: string;
    readonly instanceId: pulumi.Input<string>;
    readonly privateIp: pulumi.Input<string>;
}

/** Arguments of {@link Edge}. */
export interface EdgeArgs {
    /** The Swarm, its provider and overlay networks. */
    readonly swarm: SwarmContext;
    /** AWS region (for the SSM parameters and the EIP move). */
    readonly region: string;
    /** SSM path prefix of this stack, e.g. `/ops-center-ha/us-east-1`. */
    readonly ssmPrefix: string;
    /** The edge hosts; two or more get the keepalived pair, one gets none. Empty on an existing Swarm. */
    readonly hosts: EdgeHost[];
    /** Allocation id of the Elastic IP that is the edge VIP. */
    readonly eipAllocationId?: pulumi.Input<string>;
    /** Traefik v3 image, pinned. */
    readonly traefikImage: pulumi.Input<string>;
    /** Docker socket proxy image (read-only Swarm API for Traefik on worker nodes), pinned. */
    readonly socketProxyImage: pulumi.Input<string>;
    /** TLS that works with two instances: ACME DNS-01, or one certificate for both. */
    readonly tls: TraefikTls;
    /** The certificate and key (tlsMode certificate), secret. */
    readonly certificate?: { readonly cert: pulumi.Output<string>; readonly key: pulumi.Output<string> };
    /** keepalived priority of the first host; the next ones get 50 less each. */
    readonly keepalivedPriority: number;
    /** VRRP virtual_router_id. */
    readonly routerId: number;
    /** Network interface of the edge hosts (Nitro instances running Debian 12: ens5). */
    readonly interface?: string;
}

export const EDGE_SETTINGS = {
    interface: "ens5",
    socketProxyPort: 2375,
} as const;

/**
 * The edge: Traefik v3 on every edge host (host-mode 80/443, ping and metrics on 8082), reading the Swarm
 * through a read-only socket proxy on the managers, and keepalived on the edge hosts themselves, configured
 * through SSM one host at a time, moving the Elastic IP to the VRRP master.
 */
export class Edge extends pulumi.ComponentResource {
    readonly traefikServiceName: pulumi.Output<string>;
    readonly keepalivedAssociationId?: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Edge", name, {}, opts);
        const ctx = args.swarm;

        // The Swarm API is served only by managers; Traefik on the edge workers reads it through a read-only proxy.
        const apiNet = new docker.Network(`${name}-swarm-api`, { name: `${ctx.prefix}-swarm-api`, driver: "overlay", options: { encrypted: "true" } }, { parent: this, provider: ctx.provider });
        const proxyName = `${ctx.prefix}-socket-proxy`;
        new docker.Service(
            `${name}-socket-proxy`,
            {
                name: proxyName,
                mode: { global: true },
                taskSpec: {
                    containerSpec: {
                        image: args.socketProxyImage,
                        // Read-only endpoints Traefik's Swarm provider needs; POST is refused by the proxy.
                        env: { SERVICES: "1", TASKS: "1", NETWORKS: "1", NODES: "1", POST: "0" },
                        mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }],
                        // busybox wget (haproxy alpine base); /_ping is allowed by the proxy (PING=1, its default) and
                        // reaches the Docker daemon through the socket.
                        healthcheck: healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${EDGE_SETTINGS.socketProxyPort}/_ping`], { interval: 15, timeout: 3, retries: 3, startPeriod: 10 }),
                    },
                    resources: swarmResources("socketProxy"),
                    placement: { constraints: ["node.role==manager"] },
                    networksAdvanceds: [attachNetwork(apiNet.id)],
                    restartPolicy: { condition: "any", delay: "5s" },
                },
                // Global, no host ports: a new task starts beside the old one on each manager.
                updateConfig: statelessUpdate(1, "5s", "20s"),
                rollbackConfig: statelessRollback(1, "20s"),
            },
            { parent: this, provider: ctx.provider },
        );

        const traefikInput: TraefikInput = {
            network: `${ctx.prefix}-edge`,
            tls: args.tls,
            swarmEndpoint: `tcp://${proxyName}:${EDGE_SETTINGS.socketProxyPort}`,
        };
        const staticCfg = swarmConfig(this, ctx, "traefik-static", renderTraefikStatic(traefikInput));
        const dynamicCfg = swarmConfig(this, ctx, "traefik-dynamic", renderTraefikDynamicTls(traefikInput));
        const secrets: ReturnType<typeof mountSecret>[] = [];
        if (args.tls.mode === "certificate-secret") {
            if (!args.certificate) throw new Error("tlsMode certificate needs ops-center-ha:tlsCertificate and ops-center-ha:tlsPrivateKey");
            secrets.push(mountSecret(swarmSecret(this, ctx, "tls-cert", args.certificate.cert), args.tls.certSecret, 0o444));
            secrets.push(mountSecret(swarmSecret(this, ctx, "tls-key", args.certificate.key), args.tls.keySecret));
        }
        const port = (p: number) => ({ targetPort: p, publishedPort: p, publishMode: "host", protocol: "tcp" });
        const traefik = new docker.Service(
            `${name}-traefik`,
            {
                name: `${ctx.prefix}-traefik`,
                // One Traefik per edge host: global mode on the edge role, ports bound on the host itself.
                mode: { global: true },
                taskSpec: {
                    containerSpec: {
                        image: args.traefikImage,
                        args: [`--configFile=${TRAEFIK_DEFAULTS.staticConfigPath}`],
                        configs: [mountConfig(staticCfg, TRAEFIK_DEFAULTS.staticConfigPath), mountConfig(dynamicCfg, TRAEFIK_DEFAULTS.dynamicConfigPath)],
                        secrets,
                        // Per-node ACME storage: DNS-01 works whichever node renews.
                        mounts: [{ type: "volume", source: `${ctx.prefix}-traefik-acme`, target: "/letsencrypt" }],
                        healthcheck: { tests: ["CMD", "traefik", "healthcheck", "--ping"], interval: "10s", timeout: "3s", retries: 3, startPeriod: "10s" },
                    },
                    placement: { constraints: placeOn("edge") },
                    resources: swarmResources("traefik"),
                    networksAdvanceds: [attachNetwork(ctx.networks.edge), attachNetwork(apiNet.id)],
                    restartPolicy: { condition: "any", delay: "2s" },
                },
                endpointSpec: { ports: [port(TRAEFIK_DEFAULTS.webPort), port(TRAEFIK_DEFAULTS.websecurePort), port(TRAEFIK_DEFAULTS.pingPort)] },
                // Global services update node by node; stop-first frees the host ports, and one at a time keeps the other edge serving.
                updateConfig: { parallelism: 1, delay: "20s", order: "stop-first", failureAction: "rollback", monitor: "30s" },
                rollbackConfig: { parallelism: 1, order: "stop-first", monitor: "30s" },
            },
            { parent: this, provider: ctx.provider },
        );
        this.traefikServiceName = traefik.name;

        if (args.hosts.length >= 2 && args.eipAllocationId !== undefined) {
            this.keepalivedAssociationId = this.keepalivedPair(name, args);
        } else if (args.hosts.length === 1 && args.eipAllocationId !== undefined) {
            // A single edge host (the standby region): no keepalived, and nothing would move the EIP to a replaced
            // host (its first-boot association runs only while the EIP is unassociated). The association is keyed on
            // the instance id, so a new instance replaces it and takes the EIP (allowReassociation).
            new aws.ec2.EipAssociation(`${name}-vip`, { allocationId: args.eipAllocationId, instanceId: args.hosts[0].instanceId, allowReassociation: true }, { parent: this });
        }
        this.registerOutputs({ traefikServiceName: this.traefikServiceName, keepalivedAssociationId: this.keepalivedAssociationId });
    }

    /** keepalived on the edge hosts: files in SSM, applied by an association one host at a time. */
    private keepalivedPair(name: string, args: EdgeArgs): pulumi.Output<string> {
        const prefix = `${args.ssmPrefix}/edge`;
        const authPass = new random.RandomPassword(`${name}-vrrp-auth`, { length: 8, special: false }, { parent: this });
        const auth = new aws.ssm.Parameter(
            `${name}-vrrp-auth`,
            { name: `${prefix}/auth.conf`, type: "SecureString", value: pulumi.secret(authPass.result.apply(renderKeepalivedAuth)) },
            { parent: this },
        );
        const notifyText = pulumi.output(args.eipAllocationId!).apply((allocationId) => renderNotifyMaster({ allocationId, region: args.region, awsCli: "/usr/bin/aws" }));
        // `insecureValue`: these files hold no secret and stay readable in previews (`value` is always secret).
        const notify = new aws.ssm.Parameter(`${name}-notify-master`, { name: `${prefix}/notify_master.sh`, type: "String", insecureValue: notifyText }, { parent: this });
        const recheckText = pulumi.output(args.eipAllocationId!).apply((allocationId) => renderEipRecheck({ allocationId, region: args.region, awsCli: "/usr/bin/aws" }));
        const recheck = new aws.ssm.Parameter(`${name}-eip-recheck`, { name: `${prefix}/eip_recheck.sh`, type: "String", insecureValue: recheckText }, { parent: this });
        const nodes = pulumi.all(args.hosts.map((h) => pulumi.output(h.privateIp))).apply((ips) =>
            args.hosts.map((h, i) => ({ name: h.name, ip: ips[i], priority: args.keepalivedPriority - 50 * i })),
        );
        const confs = args.hosts.map((h) => {
            const text = nodes.apply((ns) => renderKeepalivedConf({ nodes: ns, self: h.name, interface: args.interface ?? EDGE_SETTINGS.interface, virtualRouterId: args.routerId }));
            return new aws.ssm.Parameter(
                `${name}-keepalived-${h.name}`,
                { name: pulumi.output(h.instanceId).apply((iid) => edgeParameterNames(prefix, iid).conf), type: "String", tier: "Standard", insecureValue: text },
                { parent: this },
            );
        });
        const doc = new aws.ssm.Document(
            `${name}-apply-keepalived`,
            { documentType: "Command", documentFormat: "JSON", content: renderKeepalivedApplyDocument({ parameterPrefix: prefix, region: args.region }) },
            { parent: this },
        );
        // A hash of every plain file plus the secret parameter's version (never a hash of the 8-character
        // password, which could be brute-forced) makes any change re-run the association.
        const contentHash = pulumi
            .all([notify.insecureValue, recheck.insecureValue, ...confs.map((c) => c.insecureValue), auth.version.apply(String)])
            .apply((parts) => createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16));
        const association = new aws.ssm.Association(
            `${name}-apply-keepalived`,
            {
                name: doc.name,
                targets: [{ key: "InstanceIds", values: args.hosts.map((h) => h.instanceId) }],
                parameters: { ContentHash: contentHash },
                // One edge host at a time, and stop at the first failure: never both edges down at once.
                maxConcurrency: "1",
                maxErrors: "0",
                complianceSeverity: "CRITICAL",
                waitForSuccessTimeoutSeconds: 900,
            },
            { parent: this, dependsOn: [auth, notify, recheck, ...confs] },
        );
        return association.associationId;
    }
}
