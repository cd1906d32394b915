/**
 * The only place that reads Pulumi config. Every key is read once, validated by the pure
 * `validateConfig`, and secrets are returned as secret Outputs, never as plain text.
 */
import * as pulumi from "@pulumi/pulumi";
import { CREDENTIAL_NAMES, CredentialName, parseStandbyCredentials } from "./standbyCredentials";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { CONFIG_NAMESPACE } from "./keys";
import { HaConfig } from "./types";
import { validateConfig } from "./validate";

/** Secret inputs read from `secure:` config. Each is a secret Output, or undefined when unset. */
export interface ConfigSecrets {
    /** A region built as a standby: the primary\'s passwords, copied once into this stack\'s secret config. */
    readonly standbyCredentials?: Record<CredentialName, pulumi.Output<string>>;
    readonly alertWebhookUrl?: pulumi.Output<string>;
    readonly tlsCertificate?: pulumi.Output<string>;
    readonly tlsPrivateKey?: pulumi.Output<string>;
}

/**
 * Whether the engine handed `key` over as a secret (`secure:` in the stack file). The SDK has this function
 * (`runtime/config.js`, reading PULUMI_CONFIG_SECRET_KEYS) but marks it internal, so it is looked up, not declared:
 * if a later SDK drops it, the plain-text check is skipped rather than failing every stack.
 */
const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;

/** Reads and validates this stack's config. Throws `ConfigError` before any resource is created. */
/** Each password of a `standbyCredentials` secret, still secret (validate.ts has checked the shape). */
function standbyCredentials(text: pulumi.Output<string> | undefined): Record<CredentialName, pulumi.Output<string>> | undefined {
    if (!text) return undefined;
    const parsed = text.apply(parseStandbyCredentials);
    return Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, pulumi.secret(parsed.apply((c) => c[n]))])) as Record<CredentialName, pulumi.Output<string>>;
}

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
        isSecret: isConfigSecret && ((key) => isConfigSecret(`${prefix}${key}`)),
    });
    // Pulumi.yaml declares `default: ""` for secrets (see config/keys.ts declaredDefault): "" is unset.
    const all = pulumi.runtime.allConfig();
    const secret = (key: string) => {
        if (!all[`${prefix}${key}`]) return undefined;
        const v = config.getSecret(key);
        return v === undefined ? undefined : pulumi.secret(v);
    };
    return {
        cfg,
        secrets: {
            alertWebhookUrl: secret("alertWebhookUrl"),
            tlsCertificate: secret("tlsCertificate"),
            tlsPrivateKey: secret("tlsPrivateKey"),
            standbyCredentials: standbyCredentials(secret("standbyCredentials")),
        },
    };
}
