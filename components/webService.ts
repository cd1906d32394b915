/**
 * The Swarm service shape shared by the stateless web tiers (frontend, both backend colours): replicas
 * spread at most one per app node, health check, restart policy, resources, start-first rolling update
 * with automatic rollback, and Traefik labels when routed.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { healthcheck, labelList, memoryBytes, nanoCpus, placeOn, statelessRollback, statelessUpdate } from "../lib/swarmSpec";
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
    readonly restartMaxAttempts: number;
    readonly limits: { cpus: number; memory: string };
    readonly reservations: { cpus: number; memory: string };
    readonly update: { parallelism: number; delay: string; monitor: string };
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
                restartPolicy: { condition: "on-failure", maxAttempts: s.restartMaxAttempts, delay: "5s", window: "120s" },
                resources: {
                    limits: { nanoCpus: nanoCpus(s.limits.cpus), memoryBytes: memoryBytes(s.limits.memory) },
                    reservation: { nanoCpus: nanoCpus(s.reservations.cpus), memoryBytes: memoryBytes(s.reservations.memory) },
                },
                networksAdvanceds: s.networks.map(attachNetwork),
            },
            updateConfig: statelessUpdate(s.update.parallelism, s.update.delay, s.update.monitor),
            rollbackConfig: statelessRollback(s.update.parallelism, s.update.monitor),
        },
        { parent, provider: ctx.provider },
    );
}
