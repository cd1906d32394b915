/**
 * The Pulumi engine's own config rules, applied offline: how `pulumi preview`/`up` reads `Pulumi.yaml`'s `config:`
 * schema and merges it with `Pulumi.<stack>.yaml` before the program runs. Pure (text in, values or the engine's
 * error out), so that the offline plan fails exactly where the engine would, with the engine's message.
 *
 * Ported from pulumi/pulumi (Apache-2.0), read at:
 * - `sdk/go/common/workspace/project.go`: `RewriteShorthandConfigValues`, `Project.Validate`, `ValidateConfigValue`,
 *   `configKeyIsNamespacedByProject`, `ProjectConfigType` (a nil `default` is "no default": `default: ""` IS one).
 * - `sdk/go/common/workspace/config.go`: `mergeConfig` (project defaults applied; a project-namespaced key with no
 *   default, no value and nothing on the stack is missing: "Stack '<s>' is missing configuration value(s) ...",
 *   `formatMissingKeys`), `validateStackConfigValues`/`validateStackConfigValue` (secret keys must be `secure:`,
 *   values checked against the declared type), `createConfigValue` (a default becomes its `%v` text).
 * - `sdk/go/common/resource/config/key.go`: `ParseKey` (stack keys are `<namespace>:<name>`).
 * - `sdk/go/common/resource/config/crypt.go`: the passphrase/cloud crypter's `v1:<nonce>:<ciphertext>` form and its
 *   errors; the Pulumi Cloud crypter sends base64 ciphertext. The CLI reports a failure as
 *   "failed to decrypt encrypted configuration value '<key>': <cause>" (pulumi/pulumi#13128).
 * What is not ported: ESC environments, `stackConfigDir`, object/array values beyond JSON text, and decryption
 * itself (offline has no keys): a well-formed ciphertext gets a placeholder value, never the plaintext.
 */
import { parse } from "yaml";

/** An error the engine itself would report before the program runs; the message is the engine's. */
export class EngineConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "EngineConfigError";
    }
}

/** `items:` of an array config type. */
export interface ConfigItemsType {
    readonly type: string;
    readonly items?: ConfigItemsType;
}

/** One entry of `Pulumi.yaml`'s `config:` block, after the engine's shorthand rewrite. */
export interface ConfigTypeDecl {
    readonly type?: string;
    readonly description?: string;
    readonly items?: ConfigItemsType;
    /** Absent (undefined or null in YAML) means no default; any other value, "" included, is a default. */
    readonly default?: unknown;
    readonly value?: unknown;
    readonly secret?: boolean;
}

/** The parts of `Pulumi.yaml` the engine's config merge reads. */
export interface ProjectConfigSchema {
    readonly name: string;
    readonly config: Readonly<Record<string, ConfigTypeDecl>>;
}

/** One value of a stack file: its text (JSON for an object), and whether it is `secure:` ciphertext. */
export interface StackValue {
    readonly text: string;
    readonly secure: boolean;
    readonly object: boolean;
}

/** The parts of `Pulumi.<stack>.yaml` the merge reads. Keys are full `namespace:name`. */
export interface StackConfigFile {
    readonly config: ReadonlyMap<string, StackValue>;
    readonly encryptionsalt?: string;
    readonly secretsprovider?: string;
    readonly encryptedkey?: string;
}

/** The merged config the program sees: `namespace:key` -> text, and which keys are secret. */
export interface MergedConfig {
    readonly values: Record<string, string>;
    readonly secretKeys: string[];
}

const present = (v: unknown) => v !== undefined && v !== null;
const isPrimitive = (v: unknown) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v));

/** project.go `configKeyIsNamespacedByProject`. */
export function isProjectKey(projectName: string, key: string): boolean {
    return !key.includes(":") || key.startsWith(`${projectName}:`);
}

/** config.go `parseConfigKey`: a bare key belongs to the project's namespace. */
export function fullKey(projectName: string, key: string): string {
    return key.includes(":") ? parseKey(key) : `${projectName}:${key}`;
}

/** key.go `ParseKey`: `<namespace>:<name>`, or the old `<namespace>:config:<name>`. Returns the `namespace:name` form. */
export function parseKey(s: string): string {
    const parts = s.split(":");
    if (parts.length === 2) return s;
    if (parts.length === 3 && parts[1] === "config" && parts[0] !== "" && parts[2] !== "") return `${parts[0]}:${parts[2]}`;
    throw new EngineConfigError(`could not parse ${s} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`);
}

/** project.go `InferFullTypeName`. */
export function fullTypeName(type: string, items?: ConfigItemsType): string {
    return items ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/**
 * project.go `ValidateConfigValue`: a string is a string; an integer is a whole number or text that Go's
 * `strconv.Atoi` accepts; a boolean is true/false or the text "true"/"false"; an array checks each item.
 */
export function validateConfigValue(type: string, items: ConfigItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            if (typeof value === "number") return Number.isInteger(value);
            // strconv.Atoi: optional sign, decimal digits only, within int64.
            return typeof value === "string" && /^[+-]?\d+$/.test(value) && Math.abs(Number(value)) <= 2 ** 63;
        case "boolean":
            return value === true || value === false || value === "true" || value === "false";
        case "object":
            return value !== null && typeof value === "object" && !Array.isArray(value);
        default:
            if (!Array.isArray(value) || !items) return false;
            return value.every((item) => validateConfigValue(items.type, items.items, item));
    }
}

/** config.go `formatMissingKeys`: `'a'`, or `'a', 'b' and 'c'` sorted. */
export function formatMissingKeys(keys: readonly string[]): string {
    if (keys.length === 1) return `'${keys[0]}'`;
    const sorted = [...keys].sort();
    return sorted.map((k, i) => (i === sorted.length - 1 ? `and '${k}'` : i === sorted.length - 2 ? `'${k}' ` : `'${k}', `)).join("");
}

/** Reads `Pulumi.yaml` text: the engine's shorthand rewrite, then `Project.Validate`'s config rules. */
export function readProjectConfig(text: string): ProjectConfigSchema {
    const doc = (parse(text) ?? {}) as Record<string, unknown>;
    const name = doc.name;
    if (typeof name !== "string" || name === "") throw new EngineConfigError("project is missing a non-empty string 'name' attribute");
    const raw = doc.config;
    const config: Record<string, ConfigTypeDecl> = {};
    // `config: <path>` is the old spelling of stackConfigDir: no schema then.
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
            // RewriteShorthandConfigValues: a bare value is a default for a project key, a value for any other.
            if (isPrimitive(v) || Array.isArray(v)) config[key] = isProjectKey(name, key) ? { default: v } : { value: v };
            else config[key] = (v ?? {}) as ConfigTypeDecl;
        }
    }
    validateProjectConfig({ name, config });
    return { name, config };
}

/** project.go `Project.Validate`, its config part. Throws the engine's message. */
export function validateProjectConfig(project: ProjectConfigSchema): void {
    for (const [key, t] of Object.entries(project.config)) {
        if (present(t.default) && present(t.value)) throw new EngineConfigError(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        if (isProjectKey(project.name, key)) {
            if (t.type === "array" && !t.items) {
                throw new EngineConfigError(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
            }
            if (present(t.type) && present(t.default) && !validateConfigValue(t.type!, t.items, t.default)) {
                throw new EngineConfigError(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(t.type!, t.items)}'`);
            }
        } else {
            if (present(t.type)) throw new EngineConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
            if (present(t.default)) {
                throw new EngineConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`);
            }
            if (!present(t.value)) throw new EngineConfigError(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
        }
    }
}

/**
 * Reads `Pulumi.<stack>.yaml` text. Scalars keep their text (YAML `2` is "2"), `secure:` maps are ciphertext,
 * other maps and lists become JSON (the engine's object values). Keys must parse as `<namespace>:<name>`.
 */
export function readStackConfigFile(text: string): StackConfigFile {
    // The failsafe schema keeps every scalar as its source text, as the engine's config.Value does.
    const doc = (parse(text, { schema: "failsafe" }) ?? {}) as Record<string, unknown>;
    const config = new Map<string, StackValue>();
    const raw = (doc.config ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(raw)) {
        const key = parseKey(k);
        if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
            config.set(key, { text: String((v as { secure: unknown }).secure), secure: true, object: false });
        } else if (v !== null && typeof v === "object") {
            config.set(key, { text: JSON.stringify(v), secure: false, object: true });
        } else {
            config.set(key, { text: v === null ? "" : String(v), secure: false, object: false });
        }
    }
    const str = (k: string) => (typeof doc[k] === "string" ? (doc[k] as string) : undefined);
    return { config, encryptionsalt: str("encryptionsalt"), secretsprovider: str("secretsprovider"), encryptedkey: str("encryptedkey") };
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Why the CLI could not decrypt `ciphertext` with this stack file's secrets provider, or undefined when it is
 * well formed. Passphrase (`encryptionsalt`) and cloud KMS (`secretsprovider` + `encryptedkey`) stacks use the
 * symmetric crypter's `v1:<12-byte nonce>:<ciphertext>`; a stack with neither is decrypted by Pulumi Cloud,
 * whose ciphertext is plain base64.
 */
export function ciphertextProblem(file: StackConfigFile, ciphertext: string): string | undefined {
    const provider = file.secretsprovider ?? (file.encryptionsalt ? "passphrase" : "service");
    if (provider === "service" || provider === "default") {
        // Go's base64.StdEncoding.DecodeString: a CorruptInputError at the first byte it cannot take.
        if (!B64.test(ciphertext) || ciphertext === "") {
            const bad = [...ciphertext].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
            return `illegal base64 data at input byte ${bad >= 0 ? bad : ciphertext.length}`;
        }
        return undefined;
    }
    if (provider === "passphrase" && !file.encryptionsalt) return "the stack file has secretsprovider: passphrase but no encryptionsalt";
    if (provider !== "passphrase" && !file.encryptedkey) return `the stack file names secretsprovider ${provider} but has no encryptedkey`;
    const parts = ciphertext.split(":");
    if (parts.length !== 3) return "bad value";
    if (parts[0] !== "v1") return "unknown value version";
    if (!B64.test(parts[1]) || !B64.test(parts[2])) return "bad value: illegal base64 data";
    if (Buffer.from(parts[1], "base64").length !== 12) return "bad value: nonce size is incorrect";
    // AES-256-GCM: the ciphertext carries at least its 16-byte tag.
    if (Buffer.from(parts[2], "base64").length < 16) return "cipher: message authentication failed";
    return undefined;
}

/** The value the offline plan gives a well-formed `secure:` value it cannot decrypt. */
export function securePlaceholder(key: string): string {
    return `offline-placeholder-for-${key.replace(/[^A-Za-z0-9]/g, "-")}`;
}

/**
 * config.go `mergeConfig` + `validateStackConfigValues`, in the engine's order: project values and defaults are
 * applied to keys the stack does not set; missing required keys fail together; then every `secure:` value is
 * decrypted; then each explicitly typed key (sorted) must be secure when declared secret and match its type.
 * Secure values are type-checked only for their shape (offline has no plaintext).
 */
export function mergeProjectConfig(stackName: string, project: ProjectConfigSchema, stack: StackConfigFile): MergedConfig {
    const merged = new Map(stack.config);
    const missing: string[] = [];
    const keys = Object.keys(project.config).sort();
    for (const projectKey of keys) {
        const t = project.config[projectKey];
        const key = fullKey(project.name, projectKey);
        if (merged.has(key)) continue;
        if (!present(t.value) && !present(t.default)) {
            if (key.split(":")[0] === project.name) missing.push(projectKey);
            continue;
        }
        const v = present(t.default) ? t.default : t.value;
        // createConfigValue: a primitive becomes its %v text, anything else JSON.
        merged.set(key, isPrimitive(v) || typeof v === "number" ? { text: String(v), secure: false, object: false } : { text: JSON.stringify(v), secure: false, object: true });
    }
    if (missing.length > 0) {
        throw new EngineConfigError(`Stack '${stackName}' is missing configuration value${missing.length > 1 ? "s" : ""} ${formatMissingKeys(missing)}`);
    }
    for (const [key, v] of [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (!v.secure) continue;
        const problem = ciphertextProblem(stack, v.text);
        if (problem) throw new EngineConfigError(`failed to decrypt encrypted configuration value '${key.split(":")[1]}': ${problem}`);
    }
    for (const projectKey of keys) {
        const t = project.config[projectKey];
        if (!present(t.type)) continue;
        const v = merged.get(fullKey(project.name, projectKey));
        if (!v) continue;
        if (t.secret && !v.secure) throw new EngineConfigError(`Stack '${stackName}' with configuration key '${projectKey}' must be encrypted as it's secret`);
        if (v.secure) continue;
        const content: unknown = v.object ? JSON.parse(v.text) : v.text;
        if (!validateConfigValue(t.type!, t.items, content)) {
            throw new EngineConfigError(`Stack '${stackName}' with configuration key '${projectKey}' must be of type '${fullTypeName(t.type!, t.items)}'`);
        }
    }
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, v] of merged) {
        values[key] = v.secure ? securePlaceholder(key) : v.text;
        if (v.secure) secretKeys.push(key);
    }
    return { values, secretKeys: secretKeys.sort() };
}
