import * as pulumi from "@pulumi/pulumi";
import { traefikLabels, TraefikTls } from "../renderers/traefik";
import { SwarmContext } from "./swarmKit";
import { webService } from "./webService";

/** Arguments of {@link Frontend}. */
export interface FrontendArgs {
    /** The Swarm, its provider and overlay networks. */
    readonly swarm: SwarmContext;
    /** Frontend image, pinned. */
    readonly image: pulumi.Input<string>;
    /** Replicas (3 in a primary region, 1 cold standby in a standby region). */
    readonly replicas: number;
    /** Public host name Traefik routes to the frontend. */
    readonly host: string;
    /** TLS mode of the edge (selects the certificate resolver label). */
    readonly tls: TraefikTls;
    /** App nodes the tasks may use (undefined on an existing Swarm): decides the update order. */
    readonly appNodes: number | undefined;
}

/** The design document's frontend settings (React SPA behind nginx), kept as written; sizes in lib/sizing.ts. */
export const FRONTEND_SETTINGS = {
    port: 80,
    healthPath: "/health",
    health: { interval: 10, timeout: 3, retries: 3, startPeriod: 30 },
    tier: "frontend",
    update: { parallelism: 1, delay: "10s", monitor: "30s" },
} as const;

/** The React SPA: replicas at most one per app node, rolling updates with automatic rollback. */
export class Frontend extends pulumi.ComponentResource {
    readonly serviceName: pulumi.Output<string>;

    constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Frontend", name, {}, opts);
        const serviceName = `${args.swarm.prefix}-frontend`;
        const svc = webService(this, args.swarm, `${name}-service`, {
            ...FRONTEND_SETTINGS,
            serviceName,
            image: args.image,
            replicas: args.replicas,
            eligibleNodes: args.appNodes,
            labels: traefikLabels({ name: "frontend", host: args.host, port: FRONTEND_SETTINGS.port, network: `${args.swarm.prefix}-edge`, tls: args.tls, healthCheckPath: FRONTEND_SETTINGS.healthPath }),
            networks: [args.swarm.networks.edge],
        });
        this.serviceName = svc.name;
        this.registerOutputs({ serviceName: this.serviceName });
    }
}
