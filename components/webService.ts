/**
 * The Swarm service shape shared by the stateless web tiers (frontend, both backend colours): replicas
 * spread at most one per app node, health check, restart policy, resources, rolling update with automatic rollback
 * (start-first when a free app node exists, stop-first when the replicas fill them), and Traefik labels when routed.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { cappedUpdateOrder, swarmResources, Tier } from "../lib/sizing";
import { healthcheck, labelList, placeOn, statelessRollback, statelessUpdate } from "../lib/swarmSpec";
import { SwarmContext, attachNetwork } from "./swarmKit";

/** The settings of one stateless web service. */
export interface WebServiceSpec {
    /** Swarm service name. */
    readonly serviceName: string;
    readonly image: pulumi.Input<string>;
    readonly replicas: number;
    /** Container port, also the health-check port. */
    readonly port: number;
    readonly healthPath: string;
    readonly health: { interval: number; timeout: number; retries: number; startPeriod: number };
    /** Limits and reservations: a row of lib/sizing.ts TIER_SIZES. */
    readonly tier: Tier;
    readonly update: { parallelism: number; delay: string; monitor: string };
    /**
     * App nodes the tasks may use, or undefined when unknown (an existing Swarm): decides start-first (a free node
     * exists for the new task) or stop-first (replicas fill every node; start-first would stall, moby/moby#40797).
     */
    readonly eligibleNodes: number | undefined;
    /** Seconds Swarm waits after SIGTERM before SIGKILL (the drain period). */
    readonly stopGraceSeconds?: number;
    readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    readonly secrets?: pulumi.Input<docker.types.input.ServiceTaskSpecContainerSpecSecret>[];
    /** Service labels, Traefik's included; an unrouted service gets `traefik.enable=false`. */
    readonly labels: Record<string, string>;
    /** Overlay networks the tasks join. */
    readonly networks: pulumi.Input<string>[];
}

export function webService(parent: pulumi.Resource, ctx: SwarmContext, name: string, s: WebServiceSpec): docker.Service {
    const order = cappedUpdateOrder(s.replicas, s.update.parallelism, s.eligibleNodes);
    return new docker.Service(
        name,
        {
            name: s.serviceName,
            mode: { replicated: { replicas: s.replicas } },
            labels: labelList(s.labels),
            taskSpec: {
                containerSpec: {
                    image: s.image,
                    env: s.env,
                    secrets: s.secrets,
                    healthcheck: healthcheck(["CMD", "curl", "-fsS", `http://localhost:${s.port}${s.healthPath}`], s.health),
                    stopGracePeriod: s.stopGraceSeconds ? `${s.stopGraceSeconds}s` : undefined,
                    stopSignal: "SIGTERM",
                },
                // Hard anti-affinity: at most one task per node, on app nodes only, spread over zones.
                placement: { maxReplicas: 1, constraints: placeOn("app"), prefs: ["spread=node.labels.zone"] },
                // "any", uncapped: Swarm stops an unhealthy task with SIGTERM and the app exits 0; under "on-failure"
                // that task is "complete" and never replaced (the Swarm lab's frontend went to 0 of 3 for good).
                restartPolicy: { condition: "any", delay: "5s" },
                resources: swarmResources(s.tier),
                networksAdvanceds: s.networks.map(attachNetwork),
            },
            updateConfig: { ...statelessUpdate(s.update.parallelism, s.update.delay, s.update.monitor), order },
            rollbackConfig: { ...statelessRollback(s.update.parallelism, s.update.monitor), order },
        },
        { parent, provider: ctx.provider },
    );
}
