/**
 * The only place that reads Pulumi config. Every key is read once, validated by the pure
 * `validateConfig`, and secrets are returned as secret Outputs, never as plain text.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE } from "./keys";
import { HaConfig } from "./types";
import { validateConfig } from "./validate";

/** Secret inputs read from `secure:` config. Each is a secret Output, or undefined when unset. */
export interface ConfigSecrets {
    readonly alertWebhookUrl?: pulumi.Output<string>;
    readonly tlsCertificate?: pulumi.Output<string>;
    readonly tlsPrivateKey?: pulumi.Output<string>;
}

/** Reads and validates this stack's config. Throws `ConfigError` before any resource is created. */
export function loadConfig(): { cfg: HaConfig; secrets: ConfigSecrets } {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const prefix = `${CONFIG_NAMESPACE}:`;
    const keys = Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length));
    const cfg = validateConfig({
        stack: pulumi.getStack(),
        region: new pulumi.Config("aws").get("region"),
        keys,
        get: (key) => config.get(key),
    });
    const secret = (key: string) => {
        const v = config.getSecret(key);
        return v === undefined ? undefined : pulumi.secret(v);
    };
    return {
        cfg,
        secrets: {
            alertWebhookUrl: secret("alertWebhookUrl"),
            tlsCertificate: secret("tlsCertificate"),
            tlsPrivateKey: secret("tlsPrivateKey"),
        },
    };
}
