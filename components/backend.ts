import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Color } from "../config/types";
import { libpqKeepaliveOptions } from "../lib/keepalive";
import { traefikLabels, TraefikTls } from "../renderers/traefik";
import { mountSecret, SwarmContext } from "./swarmKit";
import { webService } from "./webService";

/** Arguments of {@link Backend}. */
export interface BackendArgs {
    /** The Swarm, its provider and overlay networks. */
    readonly swarm: SwarmContext;
    /** Replicas of each colour (3 in a primary region, 1 cold standby in a standby region). */
    readonly replicas: number;
    /** The colour Traefik routes to; the other keeps running, unrouted, for instant rollback. */
    readonly activeColor: Color;
    /** Image of the active colour, pinned. */
    readonly activeImage: pulumi.Input<string>;
    /** Image of the inactive colour (the previous release after a switch). */
    readonly inactiveImage: pulumi.Input<string>;
    /** Public host name; the backend is routed under `/api` on it. */
    readonly host: string;
    /** TLS mode of the edge. */
    readonly tls: TraefikTls;
    /** App nodes the tasks may use (undefined on an existing Swarm): decides the update order. */
    readonly appNodes: number | undefined;
    /** Postgres through the Patroni-following router (HAProxy), never a fixed member. */
    readonly database: { readonly host: pulumi.Input<string>; readonly port: number; readonly name: string; readonly user: string; readonly passwordSecret: docker.Secret };
    /**
     * Redis through Sentinel (the client asks the sentinels for the master); in a standby region, which runs no
     * sentinels, `replica` is the local replica's address instead: read-only until the fenced promotion.
     */
    readonly redis: { readonly sentinels: pulumi.Input<string[]>; readonly masterName: string; readonly passwordSecret: docker.Secret; readonly replica?: pulumi.Input<string> };
}

/** The design document's backend settings, kept as written; the drain period is Swarm's stop grace period. */
export const BACKEND_SETTINGS = {
    port: 8084,
    /** Liveness: Swarm restarts a task that fails it. */
    healthPath: "/health",
    /** Readiness (migrations done, pool ready): Traefik routes only to tasks that pass it. */
    readyPath: "/ready",
    health: { interval: 15, timeout: 5, retries: 3, startPeriod: 60 },
    tier: "backend",
    update: { parallelism: 1, delay: "30s", monitor: "60s" },
    stopGraceSeconds: 30,
    stickyCookie: "opscenter_backend",
} as const;

/**
 * The FastAPI backend in two colours. Blue/green is one config value: `activeColor` decides which colour
 * carries Traefik's router; switching is `pulumi config set activeColor green` + `pulumi up`, and
 * switching back is the instant rollback, since the old colour is still running.
 */
export class Backend extends pulumi.ComponentResource {
    readonly services: Record<Color, docker.Service>;
    readonly activeServiceName: pulumi.Output<string>;

    constructor(name: string, args: BackendArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Backend", name, {}, opts);
        const dbSecret = "db_password";
        const redisSecret = "redis_password";
        const make = (color: Color) => {
            const active = color === args.activeColor;
            const routed = traefikLabels({
                name: "backend",
                host: args.host,
                pathPrefix: "/api",
                port: BACKEND_SETTINGS.port,
                network: `${args.swarm.prefix}-edge`,
                tls: args.tls,
                healthCheckPath: BACKEND_SETTINGS.readyPath,
                stickyCookieName: BACKEND_SETTINGS.stickyCookie,
            });
            return webService(this, args.swarm, `${name}-${color}`, {
                ...BACKEND_SETTINGS,
                serviceName: `${args.swarm.prefix}-backend-${color}`,
                image: active ? args.activeImage : args.inactiveImage,
                replicas: args.replicas,
                eligibleNodes: args.appNodes,
                labels: { ...(active ? routed : { "traefik.enable": "false" }), "opscenter.color": color, "opscenter.active": String(active) },
                networks: [args.swarm.networks.edge, args.swarm.networks.app],
                env: {
                    GRACEFUL_SHUTDOWN_TIMEOUT: String(BACKEND_SETTINGS.stopGraceSeconds),
                    DEPLOY_COLOR: color,
                    DATABASE_HOST: args.database.host,
                    DATABASE_PORT: String(args.database.port),
                    DATABASE_NAME: args.database.name,
                    DATABASE_USER: args.database.user,
                    DATABASE_PASSWORD_FILE: `/run/secrets/${dbSecret}`,
                    // libpq keywords appended to the connection string: TCP keepalive below the Swarm VIP's 900 s idle
                    // timeout (lib/keepalive.ts), so an idle pooled connection is neither dropped nor left hanging.
                    DATABASE_CONNECT_OPTIONS: libpqKeepaliveOptions(),
                    ...(args.redis.replica !== undefined
                        ? { REDIS_ADDRESS: args.redis.replica, REDIS_READ_ONLY: "true" }
                        : { REDIS_SENTINELS: pulumi.output(args.redis.sentinels).apply((s) => s.join(",")), REDIS_MASTER_NAME: args.redis.masterName }),
                    REDIS_PASSWORD_FILE: `/run/secrets/${redisSecret}`,
                },
                secrets: [mountSecret(args.database.passwordSecret, dbSecret), mountSecret(args.redis.passwordSecret, redisSecret)],
            });
        };
        this.services = { blue: make("blue"), green: make("green") };
        this.activeServiceName = this.services[args.activeColor].name;
        this.registerOutputs({ activeServiceName: this.activeServiceName });
    }
}
