/**
 * The region's network: a VPC over `azCount` zones, a public and a private subnet per zone (cut from the VPC
 * CIDR by lib/placement), an internet gateway, NAT, route tables, an S3 gateway endpoint (WAL traffic stays off
 * NAT and is free), and one security group per host role with least-privilege rules.
 *
 * Which ports are really host-level: inside the Swarm, service-to-service traffic (Traefik -> frontend/backend,
 * backend -> HAProxy/Redis, Patroni <-> etcd) rides the overlay, i.e. VXLAN on UDP 4789 between hosts, wrapped in
 * ESP (IP protocol 50) for encrypted overlays. A security group only ever sees 4789/ESP for that traffic, so the
 * Swarm ports are open inside the VPC and nothing else is needed for it. The data ports below (5432, 8008,
 * 2379-2380, 6379, 26379, 5000-5001) are host-level only where a data service publishes them in `mode: host`
 * (stable per-node addresses for etcd peers, Patroni REST health checks, cross-region replication over the VPC
 * peering, which the overlay does not span): those are allowed from the app and data security groups only.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { planSubnets } from "../lib/placement";

/** `perAz`: one NAT gateway per zone (a zone loss keeps egress); `single`: one NAT gateway, cheaper, one zone of egress. */
export type NatMode = "perAz" | "single";

export interface NetworkArgs {
    /** VPC CIDR (a /16 to /24), e.g. 10.10.0.0/16. */
    readonly vpcCidr: string;
    /**
     * The zones to spread over, index = zone index (3 or more: one Swarm manager per zone). Chosen once in the
     * stack's config and kept: recomputing them from the zones AWS reports available would shift every subnet when a
     * zone is impaired, and fail `up` mid-incident.
     */
    readonly zones: readonly string[];
    /** The only CIDR allowed to SSH to the edge hosts (and, over a VPN or the edge jump, to the others). */
    readonly adminCidr: pulumi.Input<string>;
    /** NAT layout (default `perAz`). */
    readonly natMode?: NatMode;
    /** Tags added to every resource. */
    readonly tags?: Record<string, string>;
}

/** Security group ids per host role. */
export interface RoleSecurityGroups {
    readonly edge: pulumi.Output<string>;
    readonly app: pulumi.Output<string>;
    readonly data: pulumi.Output<string>;
}

/** Swarm's host-level ports (inside the VPC only). */
export const SWARM_PORTS: readonly { readonly protocol: string; readonly from?: number; readonly to?: number; readonly what: string }[] = [
    { protocol: "tcp", from: 2377, to: 2377, what: "Swarm cluster management (managers)" },
    { protocol: "tcp", from: 7946, to: 7946, what: "Swarm node gossip" },
    { protocol: "udp", from: 7946, to: 7946, what: "Swarm node gossip" },
    { protocol: "udp", from: 4789, to: 4789, what: "Swarm overlay data path (VXLAN)" },
    { protocol: "50", what: "ESP: encrypted overlay (IPsec)" },
];

/** Data-tier ports reachable from the app and data security groups (host-published data services). */
export const DATA_PORTS: readonly { readonly from: number; readonly to: number; readonly what: string }[] = [
    { from: 5432, to: 5432, what: "Postgres" },
    { from: 8008, to: 8008, what: "Patroni REST API" },
    { from: 2379, to: 2380, what: "etcd client and peer" },
    { from: 6379, to: 6379, what: "Redis" },
    { from: 26379, to: 26379, what: "Redis Sentinel" },
    { from: 5000, to: 5001, what: "HAProxy (Postgres leader / replicas)" },
];

/**
 * AWS APIs the hosts reach through interface VPC endpoints: EC2 (keepalived's EIP move and re-check on the edge
 * hosts) and the three the SSM Agent needs (ssm, ssmmessages for Session Manager, ec2messages for Run Command).
 */
export const INTERFACE_ENDPOINT_SERVICES = ["ec2", "ssm", "ssmmessages", "ec2messages"] as const;

export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly vpcCidr: string;
    readonly azs: pulumi.Output<string[]>;
    readonly publicSubnetIds: pulumi.Output<string>[];
    readonly privateSubnetIds: pulumi.Output<string>[];
    readonly privateRouteTableIds: pulumi.Output<string>[];
    readonly securityGroupIds: RoleSecurityGroups;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Network", name, {}, opts);
        const parent = { parent: this };
        const azCount = args.zones.length;
        const plan = planSubnets(args.vpcCidr, azCount);
        const tags = (n: string, extra: Record<string, string> = {}) => ({ ...args.tags, ...extra, Name: n });

        // The configured zones must exist (a typo fails here, before any subnet), checked against every zone of the
        // region that needs no opt-in, whatever its state: an impaired zone is still a zone, and must not move anything.
        const known = aws.getAvailabilityZonesOutput({ filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] }, parent);
        this.azs = known.names.apply((names) => {
            const missing = args.zones.filter((z) => !names.includes(z));
            if (missing.length > 0) {
                throw new Error(`ops-center-ha:availabilityZones = ${JSON.stringify(args.zones.join(","))}: ${missing.join(", ")} is not a zone of this region (it has ${names.join(", ")})`);
            }
            return [...args.zones];
        });
        const az = (i: number) => this.azs.apply((a) => a[i]);

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
            cidrBlock: args.vpcCidr,
            enableDnsSupport: true,
            enableDnsHostnames: true,
            tags: tags(`${name}-vpc`),
        }, parent);
        this.vpcId = vpc.id;
        this.vpcCidr = args.vpcCidr;

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags(`${name}-igw`) }, parent);
        const publicRt = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, tags: tags(`${name}-public-rt`) }, parent);
        new aws.ec2.Route(`${name}-public-default`, { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }, parent);

        const publicSubnets = plan.public.map((cidr, i) => {
            const s = new aws.ec2.Subnet(`${name}-public-${i}`, {
                vpcId: vpc.id,
                cidrBlock: cidr,
                availabilityZone: az(i),
                // Edge hosts need a public address for egress (no NAT in public subnets); the EIP is the VIP.
                mapPublicIpOnLaunch: true,
                tags: tags(`${name}-public-${i}`, { tier: "public" }),
            }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: s.id, routeTableId: publicRt.id }, parent);
            return s;
        });

        const natCount = (args.natMode ?? "perAz") === "perAz" ? azCount : 1;
        const nats = Array.from({ length: natCount }, (_, i) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: tags(`${name}-nat-${i}`) }, parent);
            return new aws.ec2.NatGateway(`${name}-nat-${i}`, {
                allocationId: eip.allocationId,
                subnetId: publicSubnets[i].id,
                tags: tags(`${name}-nat-${i}`),
            }, { parent: this, dependsOn: [igw] });
        });

        // One private route table per zone in both NAT modes, so the peering routes (CrossRegion) always have
        // one table per zone to write to.
        const privateRts: aws.ec2.RouteTable[] = [];
        const privateSubnets = plan.private.map((cidr, i) => {
            const s = new aws.ec2.Subnet(`${name}-private-${i}`, {
                vpcId: vpc.id,
                cidrBlock: cidr,
                availabilityZone: az(i),
                mapPublicIpOnLaunch: false,
                tags: tags(`${name}-private-${i}`, { tier: "private" }),
            }, parent);
            const rt = new aws.ec2.RouteTable(`${name}-private-rt-${i}`, { vpcId: vpc.id, tags: tags(`${name}-private-rt-${i}`) }, parent);
            new aws.ec2.Route(`${name}-private-default-${i}`, {
                routeTableId: rt.id,
                destinationCidrBlock: "0.0.0.0/0",
                natGatewayId: nats[natCount === 1 ? 0 : i].id,
            }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: s.id, routeTableId: rt.id }, parent);
            privateRts.push(rt);
            return s;
        });

        const region = aws.getRegionOutput({}, parent);
        new aws.ec2.VpcEndpoint(`${name}-s3`, {
            vpcId: vpc.id,
            serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
            vpcEndpointType: "Gateway",
            routeTableIds: [publicRt.id, ...privateRts.map((rt) => rt.id)],
            tags: tags(`${name}-s3`),
        }, parent);

        // Interface endpoints for the EC2 and SSM APIs, with private DNS: the default API host names resolve to them
        // inside the VPC, so the edge hosts' EIP moves (ec2:AssociateAddress) and the SSM Agent never depend on the
        // host's public address, which changes when the EIP moves (issue 12 item 9). One ENI per private subnet.
        const endpointSg = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
            vpcId: vpc.id,
            description: "Interface VPC endpoints (EC2, SSM): HTTPS from this VPC",
            tags: tags(`${name}-endpoints`, { role: "endpoints" }),
        }, parent);
        new aws.vpc.SecurityGroupIngressRule(`${name}-endpoints-in-https`, {
            securityGroupId: endpointSg.id,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrIpv4: args.vpcCidr,
            description: "HTTPS to the AWS APIs from hosts of this VPC",
        }, parent);
        for (const service of INTERFACE_ENDPOINT_SERVICES) {
            new aws.ec2.VpcEndpoint(`${name}-${service}`, {
                vpcId: vpc.id,
                serviceName: pulumi.interpolate`com.amazonaws.${region.region}.${service}`,
                vpcEndpointType: "Interface",
                privateDnsEnabled: true,
                subnetIds: privateSubnets.map((s) => s.id),
                securityGroupIds: [endpointSg.id],
                tags: tags(`${name}-${service}`),
            }, parent);
        }

        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.privateRouteTableIds = privateRts.map((rt) => rt.id);

        // Security groups: no inline rules (each rule is its own resource, so groups can reference each other).
        const sg = (role: string, description: string) =>
            new aws.ec2.SecurityGroup(`${name}-${role}`, {
                vpcId: vpc.id,
                description,
                tags: tags(`${name}-${role}`, { role }),
            }, parent);
        const edge = sg("edge", "Edge hosts: Traefik (80/443 from the internet) and keepalived");
        const app = sg("app", "App hosts: Swarm managers, frontend, backend, monitoring");
        const data = sg("data", "Data hosts: Patroni/Postgres, etcd, HAProxy, Redis, Sentinel");
        this.securityGroupIds = { edge: edge.id, app: app.id, data: data.id };

        type Rule = { protocol: string; from?: number; to?: number; cidr?: pulumi.Input<string>; peer?: aws.ec2.SecurityGroup; what: string };
        const ingress = (group: aws.ec2.SecurityGroup, role: string, key: string, r: Rule) =>
            new aws.vpc.SecurityGroupIngressRule(`${name}-${role}-in-${key}`, {
                securityGroupId: group.id,
                ipProtocol: r.protocol,
                fromPort: r.from,
                toPort: r.to,
                cidrIpv4: r.cidr,
                referencedSecurityGroupId: r.peer?.id,
                description: r.what,
            }, parent);
        const groups = { edge, app, data } as const;

        for (const [role, group] of Object.entries(groups)) {
            // Egress: hosts reach apt, SSM, S3 (endpoint), image registries and Route53/EC2 APIs over NAT or IGW.
            new aws.vpc.SecurityGroupEgressRule(`${name}-${role}-out-all`, {
                securityGroupId: group.id,
                ipProtocol: "-1",
                cidrIpv4: "0.0.0.0/0",
                description: "all egress (package mirrors, AWS APIs, image registries)",
            }, parent);
            for (const p of SWARM_PORTS) {
                ingress(group, role, `swarm-${p.protocol}-${p.from ?? "all"}`, { ...p, cidr: args.vpcCidr });
            }
            // SSH: from the admin CIDR (edge directly, the others over a VPN into the VPC) ...
            ingress(group, role, "ssh-admin", { protocol: "tcp", from: 22, to: 22, cidr: args.adminCidr, what: "SSH from the admin CIDR" });
        }
        // ... and, for the private hosts, through the edge hosts as an SSH jump (the Docker provider's path).
        for (const role of ["app", "data"] as const) {
            ingress(groups[role], role, "ssh-edge", { protocol: "tcp", from: 22, to: 22, peer: edge, what: "SSH jump from the edge hosts" });
        }

        // Edge: the only group open to the internet, and only on 80/443.
        ingress(edge, "edge", "http", { protocol: "tcp", from: 80, to: 80, cidr: "0.0.0.0/0", what: "HTTP (redirect to HTTPS, ACME)" });
        ingress(edge, "edge", "https", { protocol: "tcp", from: 443, to: 443, cidr: "0.0.0.0/0", what: "HTTPS" });
        ingress(edge, "edge", "vrrp", { protocol: "112", peer: edge, what: "VRRP (unicast keepalived) between edge hosts" });
        ingress(edge, "edge", "traefik-ping", { protocol: "tcp", from: 8082, to: 8082, peer: edge, what: "Traefik ping between edge hosts" });

        // Data: host-published data ports only from the app and data groups.
        for (const p of DATA_PORTS) {
            for (const [peerRole, peer] of [["app", app], ["data", data]] as const) {
                ingress(data, "data", `${p.from}-from-${peerRole}`, { protocol: "tcp", from: p.from, to: p.to, peer, what: `${p.what} from ${peerRole} hosts` });
            }
        }

        this.registerOutputs({
            vpcId: this.vpcId,
            azs: this.azs,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            privateRouteTableIds: this.privateRouteTableIds,
            securityGroupIds: this.securityGroupIds,
        });
    }
}
