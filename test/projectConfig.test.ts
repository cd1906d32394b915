/**
 * The engine's config rules (offline/projectConfig.ts), one test per rule on a small fixture, then the real
 * Pulumi.yaml against both stack files and the existing-Swarm mode: every key has a default or is set where it
 * is needed, nothing is undecryptable, and what the engine hands the program passes our own validator.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    ciphertextProblem,
    EngineConfigError,
    formatMissingKeys,
    mergeProjectConfig,
    readProjectConfig,
    readStackConfigFile,
    validateConfigValue,
} from "../offline/projectConfig";
import { readStackConfig } from "../offline/engine";
import { validateConfig } from "../config/validate";
import { spawnSync } from "node:child_process";
import { ConfigError } from "../config/validate";
import { PLAN_TIMEOUT_MS, ROOT, STACKS } from "./harness";

const project = (config: string) => readProjectConfig(`name: proj\nruntime: nodejs\nconfig:\n${config}`);
const stackFile = (config: string, head = "") => readStackConfigFile(`${head}config:\n${config}`);
const merge = (p: string, s: string, head = "") => mergeProjectConfig("dev", project(p), stackFile(s, head));
const engineFails = (f: () => unknown, message: string) =>
    assert.throws(f, (e: unknown) => e instanceof EngineConfigError && e.message === message, message);

// A real passphrase ciphertext's shape: v1:<base64 12-byte nonce>:<base64 ciphertext + 16-byte tag>.
const NONCE = Buffer.alloc(12, 7).toString("base64");
const SEALED = Buffer.alloc(40, 9).toString("base64");

describe("engine config rules (pulumi/pulumi sdk/go/common/workspace)", () => {
    it("a project key's default is applied when the stack does not set it, as its text", () => {
        const m = merge("  size:\n    type: integer\n    default: 3\n  on:\n    type: boolean\n    default: false\n  name:\n    type: string\n    default: \"\"", "  proj:name: x");
        assert.deepEqual(m.values, { "proj:name": "x", "proj:size": "3", "proj:on": "false" });
    });
    it("shorthand: a bare value is a default for a project key and a value for another namespace", () => {
        const p = project("  size: 3\n  aws:region: us-east-1");
        assert.deepEqual(p.config.size, { default: 3 });
        assert.deepEqual(p.config["aws:region"], { value: "us-east-1" });
        assert.equal(mergeProjectConfig("dev", p, stackFile("  proj:x: y")).values["aws:region"], "us-east-1");
    });
    it("a project key with no default and no stack value is missing (one key)", () => {
        engineFails(() => merge("  zone:\n    type: string", "  proj:other: x"), "Stack 'dev' is missing configuration value 'zone'");
    });
    it("missing keys are reported together, sorted: 'a', 'b' and 'c'", () => {
        engineFails(() => merge("  c:\n    type: string\n  a:\n    type: string\n  b:\n    type: string", "  proj:x: y"), "Stack 'dev' is missing configuration values 'a', 'b' and 'c'");
        assert.equal(formatMissingKeys(["b", "a"]), "'a' and 'b'");
    });
    it("a key of another namespace is never required by the project", () => {
        assert.doesNotThrow(() => merge("  aws:region:\n    value: us-east-1", "  proj:x: y"));
    });
    it("a project key set on the stack needs no default", () => {
        assert.equal(merge("  zone:\n    type: string", "  proj:zone: Z1").values["proj:zone"], "Z1");
    });
    it("a default must be of the declared type", () => {
        engineFails(() => project("  n:\n    type: integer\n    default: \"\""), "The default value specified for configuration key 'n' is not of the expected type 'integer'");
    });
    it("a key has a default or a value, never both", () => {
        engineFails(() => project("  n:\n    default: 1\n    value: 2"), "project config 'n' cannot have both a 'default' and 'value' attribute");
    });
    it("an array declares its items", () => {
        engineFails(() => project("  l:\n    type: array"), "The configuration key 'l' declares an array but does not specify the underlying type via the 'items' attribute");
    });
    it("a key of another namespace declares no type and a value", () => {
        engineFails(() => project("  aws:region:\n    type: string\n    value: x"), "Configuration key 'aws:region' is not namespaced by the project and should not define a type");
        engineFails(() => project("  aws:region:\n    description: d"), "Configuration key 'aws:region' is namespaced and must provide an attribute 'value'");
    });
    it("stack values are checked against the declared type as the engine checks them", () => {
        engineFails(() => merge("  n:\n    type: integer", "  proj:n: \"3.5\""), "Stack 'dev' with configuration key 'n' must be of type 'integer'");
        engineFails(() => merge("  b:\n    type: boolean", "  proj:b: \"yes\""), "Stack 'dev' with configuration key 'b' must be of type 'boolean'");
        assert.equal(merge("  n:\n    type: integer", "  proj:n: 2").values["proj:n"], "2");
        assert.ok(validateConfigValue("integer", undefined, "-7") && !validateConfigValue("integer", undefined, "0x10"));
        assert.ok(validateConfigValue("array", { type: "integer" }, [1, "2"]) && !validateConfigValue("array", { type: "integer" }, ["a"]));
    });
    it("a key declared secret must be secure on the stack, and a default of a secret key is a plain value, so it fails too", () => {
        engineFails(() => merge("  s:\n    type: string\n    secret: true", "  proj:s: plain"), "Stack 'dev' with configuration key 's' must be encrypted as it's secret");
        engineFails(() => merge("  s:\n    type: string\n    secret: true\n    default: \"\"", "  proj:x: y"), "Stack 'dev' with configuration key 's' must be encrypted as it's secret");
    });
    it("stack keys are <namespace>:<name>", () => {
        engineFails(() => stackFile("  size: 3"), "could not parse size as a configuration key (configuration keys should be of the form `<namespace>:<name>`)");
        assert.ok(stackFile("  proj:config:size: 3").config.has("proj:size"));
    });
    it("a secure value must be ciphertext the stack's secrets provider can decrypt", () => {
        engineFails(() => merge("", "  proj:s:\n    secure: v1:REPLACE-ME-with-pulumi-config-set-secret"), "failed to decrypt encrypted configuration value 's': illegal base64 data at input byte 2");
        engineFails(() => merge("", "  proj:s:\n    secure: v1:REPLACE-ME", "encryptionsalt: v1:abc:def\n"), "failed to decrypt encrypted configuration value 's': bad value");
        engineFails(() => merge("", `  proj:s:\n    secure: v1:${NONCE}:${SEALED}`, "secretsprovider: awskms://alias/x\n"), "failed to decrypt encrypted configuration value 's': the stack file names secretsprovider awskms://alias/x but has no encryptedkey");
        const ok = merge("  s:\n    type: string\n    secret: true", `  proj:s:\n    secure: v1:${NONCE}:${SEALED}`, "encryptionsalt: v1:abc:def\n");
        assert.deepEqual(ok.secretKeys, ["proj:s"]);
        assert.match(ok.values["proj:s"], /^offline-placeholder-for-/);
        assert.equal(ciphertextProblem(stackFile(""), SEALED), undefined, "Pulumi Cloud ciphertext is base64");
    });
});

describe("engine config rules on this project", () => {
    const projectText = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
    const stackText = (stack: string) => fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");

    it("Pulumi.yaml passes the engine's project validation", () => {
        assert.doesNotThrow(() => readProjectConfig(projectText));
    });
    for (const stack of STACKS) {
        it(`every key in Pulumi.yaml has a default or is set in Pulumi.${stack}.yaml`, () => {
            assert.doesNotThrow(() => mergeProjectConfig(stack, readProjectConfig(projectText), readStackConfigFile(stackText(stack))));
        });
        it(`Pulumi.${stack}.yaml ships no secure value its secrets provider cannot decrypt`, () => {
            const file = readStackConfigFile(stackText(stack));
            for (const [key, v] of file.config) if (v.secure) assert.equal(ciphertextProblem(file, v.text), undefined, `${key} in Pulumi.${stack}.yaml`);
        });
        it(`what the engine hands the program for ${stack} passes our validator (offline stand-in for the webhook secret)`, () => {
            const { values } = readStackConfig(ROOT, stack);
            assert.doesNotThrow(() => validateConfig({ stack, region: values["aws:region"], get: (k) => values[`ops-center-ha:${k}`] }));
        });
    }
    it("existing-Swarm mode: the engine's merge and our validator both accept a primary on an existing Swarm", () => {
        const file = readStackConfigFile(stackText("us-east-1"));
        const config = new Map(file.config);
        config.set("ops-center-ha:existingSwarmHost", { text: "ssh://admin@manager-1", secure: false, object: false });
        config.set("ops-center-ha:existingSwarmDataHosts", { text: "d1,d2,d3", secure: false, object: false });
        const { values } = mergeProjectConfig("us-east-1", readProjectConfig(projectText), { ...file, config });
        values["ops-center-ha:alertWebhookUrl"] = "offline-stand-in";
        const cfg = validateConfig({ stack: "us-east-1", region: "us-east-1", get: (k) => values[`ops-center-ha:${k}`] });
        assert.equal(cfg.hosts.existingSwarmHost, "ssh://admin@manager-1");
        assert.deepEqual(cfg.hosts.existingSwarmDataHosts, ["d1", "d2", "d3"]);
    });
    it("no webhook set: pulumi up's config fails naming the exact command; the offline plan stands in for it and says so", () => {
        const strict = readStackConfig(ROOT, "us-east-1", { strict: true });
        assert.equal(strict.values["ops-center-ha:alertWebhookUrl"], "", "Pulumi.yaml's declared default");
        assert.deepEqual(strict.standIns, []);
        assert.throws(
            () => validateConfig({ stack: "us-east-1", region: "us-east-1", get: (k) => strict.values[`ops-center-ha:${k}`] }),
            (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.includes("`pulumi config set --secret alertWebhookUrl <value> --stack us-east-1`")),
        );
        const lenient = readStackConfig(ROOT, "us-east-1");
        assert.deepEqual(lenient.standIns, ["ops-center-ha:alertWebhookUrl"]);
        assert.ok(lenient.secretKeys.includes("ops-center-ha:alertWebhookUrl"));
    });
    it("npm run plan -- us-east-1 --strict fails before any resource with that command", () => {
        const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/plan.ts"), "us-east-1", "--strict"], { cwd: ROOT, encoding: "utf8", timeout: PLAN_TIMEOUT_MS });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /alertWebhookUrl is required: set it with `pulumi config set --secret alertWebhookUrl <value> --stack us-east-1`/);
    });
});
