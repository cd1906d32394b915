/**
 * What every Swarm tier shares: the Docker provider, the overlay networks, and content-hashed Swarm
 * configs and secrets (immutable objects: a change creates a new one and the service moves to it).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { ImageUser } from "../lib/images";
import { contentName } from "../lib/swarmSpec";

/** The Swarm a tier deploys to. */
export interface SwarmContext {
    /** Docker provider that talks to a Swarm manager. */
    readonly provider: pulumi.ProviderResource;
    /**
     * Overlay network ids (not names): edge (Traefik to services), app (services to each other), data (encrypted).
     * Attach with {@link attachNetwork}: the Docker provider reads an attachment back as the network's id, so one
     * made by name differs from the state on every update and replaces the service (@pulumi/docker 5.2,
     * `ServiceTaskSpecNetworksAdvanced.id`).
     */
    readonly networks: { readonly edge: pulumi.Output<string>; readonly app: pulumi.Output<string>; readonly data: pulumi.Output<string> };
    /** Prefix of every Swarm object name, e.g. `opscenter`. */
    readonly prefix: string;
}

/**
 * A Swarm config holding `text`, named by its content hash. The text is a reviewable, secret-free file;
 * it may depend on other resources' outputs (addresses), in which case the name is known once they are.
 */
export function swarmConfig(parent: pulumi.Resource, ctx: SwarmContext, name: string, text: pulumi.Input<string>): docker.ServiceConfig {
    const t = pulumi.output(text);
    return new docker.ServiceConfig(
        name,
        { name: t.apply((x) => contentName(`${ctx.prefix}-${name}`, x)), data: t.apply((x) => Buffer.from(x, "utf8").toString("base64")) },
        { parent, provider: ctx.provider, deleteBeforeReplace: false },
    );
}

/**
 * A Swarm secret holding `value`, named by a 12-hex-digit SHA-256 tag of its content, so that a rotated
 * value creates a new secret and the service moves to it. The tag is deliberately not secret: it keeps the
 * name, and so every service spec that mounts the secret, readable in previews and in the offline plan. The
 * values tagged are random passwords (190 bits), keys and tokens; 48 bits of a hash reveal nothing usable.
 * The value itself is always secret in state.
 */
export function swarmSecret(parent: pulumi.Resource, ctx: SwarmContext, name: string, value: pulumi.Input<string>): docker.Secret {
    const v = pulumi.secret(pulumi.output(value));
    const tag = pulumi.unsecret(v.apply((x) => createHash("sha256").update(x).digest("hex").slice(0, 12)));
    return new docker.Secret(
        name,
        {
            name: pulumi.interpolate`${ctx.prefix}-${name}-${tag}`,
            data: pulumi.secret(v.apply((x) => Buffer.from(x, "utf8").toString("base64"))),
        },
        { parent, provider: ctx.provider },
    );
}

/** A Swarm service's attachment to an overlay network, by the network resource's id (see {@link SwarmContext.networks}). */
export function attachNetwork(networkId: pulumi.Input<string>): docker.types.input.ServiceTaskSpecNetworksAdvanced {
    return { id: networkId };
}

/** Mounts a config read-only at `path` in the container. */
export function mountConfig(config: docker.ServiceConfig, path: string, mode = 0o444) {
    return { configId: config.id, configName: config.name, fileName: path, fileMode: mode };
}

/**
 * Mounts a secret at `/run/secrets/<file>`, readable only by its owner: the user that reads it in the image (a row of
 * lib/images.ts), or a uid string (uid = gid), root by default.
 */
export function mountSecret(secret: docker.Secret, file: string, mode = 0o400, owner: string | ImageUser = "0") {
    const [uid, gid] = typeof owner === "string" ? [owner, owner] : [String(owner.uid), String(owner.gid)];
    return { secretId: secret.id, secretName: secret.name, fileName: `/run/secrets/${file}`, fileMode: mode, fileUid: uid, fileGid: gid };
}
