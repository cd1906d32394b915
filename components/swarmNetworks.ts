import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of {@link SwarmNetworks}. */
export interface SwarmNetworksArgs {
    /** Prefix of the network names, e.g. `opscenter`. */
    readonly prefix: string;
    /** Docker provider of this region's Swarm. */
    readonly provider: pulumi.ProviderResource;
}

/**
 * The three overlay networks that separate traffic: `edge` (Traefik to the routed services), `app`
 * (services to each other and to the data routers) and `data` (Postgres, etcd, Redis), which is
 * encrypted (IPsec between nodes) because it carries replication and passwords.
 */
export class SwarmNetworks extends pulumi.ComponentResource {
    readonly edge: docker.Network;
    readonly app: docker.Network;
    readonly data: docker.Network;

    constructor(name: string, args: SwarmNetworksArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:SwarmNetworks", name, {}, opts);
        const net = (tier: string, encrypted: boolean) =>
            new docker.Network(
                `${name}-${tier}`,
                {
                    name: `${args.prefix}-${tier}`,
                    driver: "overlay",
                    attachable: false,
                    options: encrypted ? { encrypted: "true" } : {},
                    labels: [{ label: "opscenter.tier", value: tier }],
                },
                { parent: this, provider: args.provider },
            );
        this.edge = net("edge", false);
        this.app = net("app", false);
        this.data = net("data", true);
        this.registerOutputs({ edge: this.edge.name, app: this.app.name, data: this.data.name });
    }
}
