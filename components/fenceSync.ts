import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { FENCE_DEFAULTS, renderFenceSync } from "../renderers/fence";
import { swarmResources } from "../lib/sizing";
import { healthcheck, placeOn } from "../lib/swarmSpec";
import { attachNetwork, mountConfig, swarmConfig, SwarmContext } from "./swarmKit";

/** Arguments of {@link FenceSync}. */
export interface FenceSyncArgs {
    /** The Swarm, its provider and overlay networks. */
    readonly swarm: SwarmContext;
    /** This region and its WAL bucket (holds the fence record when this region was promoted). */
    readonly own: { readonly region: string; readonly bucket: pulumi.Input<string> };
    /** The peer region and its WAL bucket (holds the record when the peer was promoted away from this region). */
    readonly peer?: { readonly region: string; readonly bucket: pulumi.Input<string> };
    /** The AWS CLI image, pinned. */
    readonly image: pulumi.Input<string>;
}

/**
 * The region fence's sync (renderers/fence.ts): one task on every data host copies the fence record of both regions'
 * WAL buckets into the host volume {@link FenceSync.volume}, which the Spilo, Redis and Sentinel containers of that
 * host mount read-only and read in their start gate before taking any role.
 */
export class FenceSync extends pulumi.ComponentResource {
    /** The host volume the gated containers mount read-only at FENCE_DEFAULTS.dir. */
    readonly volume: string;
    /** The sync service: the gated services depend on it (their gate waits for its first round). */
    readonly service: docker.Service;

    constructor(name: string, args: FenceSyncArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:FenceSync", name, {}, opts);
        const ctx = args.swarm;
        this.volume = `${ctx.prefix}-fence`;
        const script = pulumi.all([args.own.bucket, args.peer?.bucket ?? ""]).apply(([own, peer]) =>
            renderFenceSync({
                sources: [
                    { name: args.own.region, kind: "s3", bucket: own, region: args.own.region },
                    ...(args.peer ? [{ name: args.peer.region, kind: "s3" as const, bucket: peer, region: args.peer.region }] : []),
                ],
            }),
        );
        const cfg = swarmConfig(this, ctx, "fence-sync", script);
        this.service = new docker.Service(
            `${name}-fence-sync`,
            {
                name: `${ctx.prefix}-fence-sync`,
                // One per data host: each host's gates read their own host's volume.
                mode: { global: true },
                taskSpec: {
                    containerSpec: {
                        image: args.image,
                        commands: ["sh", FENCE_DEFAULTS.syncScriptPath],
                        configs: [mountConfig(cfg, FENCE_DEFAULTS.syncScriptPath, 0o555)],
                        mounts: [{ type: "volume", source: this.volume, target: FENCE_DEFAULTS.dir }],
                        // Healthy while its rounds keep landing (sh and date: amazonlinux:2 base of the AWS CLI image).
                        healthcheck: healthcheck(
                            ["CMD-SHELL", `[ -s ${FENCE_DEFAULTS.dir}/checked ] && [ $(( $(date -u +%s) - $(cat ${FENCE_DEFAULTS.dir}/checked) )) -lt ${10 * FENCE_DEFAULTS.intervalS + 60} ]`],
                            { interval: 15, timeout: 5, retries: 3, startPeriod: 60 },
                        ),
                    },
                    resources: swarmResources("fenceSync"),
                    placement: { constraints: placeOn("data") },
                    networksAdvanceds: [attachNetwork(ctx.networks.data)],
                    restartPolicy: { condition: "any", delay: "5s" },
                },
                // Stop-first: the old and new task of a host would otherwise share its fence volume (both write it).
                updateConfig: { parallelism: 1, delay: "5s", order: "stop-first", failureAction: "rollback", monitor: "20s" },
                rollbackConfig: { parallelism: 1, order: "stop-first", monitor: "20s" },
            },
            { parent: this, provider: ctx.provider },
        );
        this.registerOutputs({ volume: this.volume });
    }
}
