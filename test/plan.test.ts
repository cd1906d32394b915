import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isSecretValue, planJson, redactSecrets } from "../offline/engine";
import { PRIMARY_OUTPUT_KEYS } from "../lib/stackRef";
import { PLAN_TIMEOUT_MS, planStack, ROOT, STACKS } from "./harness";

function cli(...args: string[]) {
    return spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/plan.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: PLAN_TIMEOUT_MS, maxBuffer: 256 << 20 });
}

/**
 * Strings Pulumi holds as secret values (a secret marker directly around a string), every string that looks
 * like a generated password wherever it sits, and every string outside secret markers. A marker around a
 * whole object (an env map that took in one secret Output) makes everything in it secret, which is safe but
 * does not make its plain parts secret values.
 */
function split(v: unknown, inSecret = false, acc = { secret: new Set<string>(), plain: [] as string[] }) {
    if (isSecretValue(v)) {
        if (typeof v.value === "string") acc.secret.add(v.value);
        split(v.value, true, acc);
    } else if (typeof v === "string") {
        if (inSecret) {
            for (const m of v.match(GENERATED) ?? []) acc.secret.add(m);
        } else acc.plain.push(v);
    } else if (Array.isArray(v)) v.forEach((x) => split(x, inSecret, acc));
    else if (v !== null && typeof v === "object") Object.values(v).forEach((x) => split(x, inSecret, acc));
    return acc;
}

/** The mock engine's generated passwords (offline/mocks.ts) and the primary's (offline/primaryFixture.ts). */
const GENERATED = /mock[0-9a-f]{16,}/g;

describe("offline plan", () => {
    for (const stack of STACKS) {
        it(`${stack}: plans, says it is offline, and prints counts by type`, () => {
            const r = cli(stack);
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /NOT a cloud preview/);
            assert.match(r.stdout, /Resources by type \(\d+ in all\)/);
            assert.match(r.stdout, /opscenter:ha:Region {2}ops/);
        });

        it(`${stack}: --json has exactly the documented shape, sorted by URN, stable across runs`, () => {
            const a = cli(stack, "--json");
            const b = cli(stack, "--json");
            assert.equal(a.status, 0, a.stderr);
            assert.equal(a.stdout, b.stdout, "two runs differ");
            const doc = JSON.parse(a.stdout);
            assert.deepEqual(Object.keys(doc), ["project", "stack", "resources", "outputs"]);
            assert.equal(doc.project, "ops-center-ha");
            assert.equal(doc.stack, stack);
            // id (custom resources), provider and opts (ignoreChanges, protect, deleteBeforeReplace) appear when set.
            const shape = ["urn", "type", "name", "parent", "id", "provider", "opts", "inputs"];
            for (const r of doc.resources) assert.deepEqual(Object.keys(r), shape.filter((k) => k in r));
            for (const r of doc.resources) for (const k of ["urn", "type", "name", "parent", "inputs"]) assert.ok(k in r, k);
            const urns = doc.resources.map((r: { urn: string }) => r.urn);
            assert.deepEqual(urns, [...urns].sort());
            assert.equal(new Set(urns).size, urns.length, "URNs are unique");
        });

        it(`${stack}: no secret value appears in plain text in any registered resource's inputs or the outputs`, () => {
            const plan = planStack(stack);
            const { secret, plain } = split({ inputs: plan.resources.map((r) => r.inputs), outputs: plan.outputs });
            // Generated passwords (the mock engine's are recognisable) must only ever appear inside secret markers.
            const generated = plain.filter((s) => new RegExp(GENERATED.source).test(s));
            assert.deepEqual(generated, [], "a generated password is in plain text");
            const secrets = [...secret].filter((s) => s.length >= 8);
            assert.ok(secrets.length > 0, "the plan has secrets to check");
            for (const s of secrets) {
                const leak = plain.find((p) => p.includes(s));
                assert.equal(leak, undefined, `secret ${s.slice(0, 6)}… appears in plain text`);
            }
            const printed = planJson(plan);
            for (const s of secrets) assert.ok(!printed.includes(s), "the --json plan prints a secret");
            assert.ok(printed.includes('"[secret]"'));
            assert.deepEqual(redactSecrets({ a: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "x" } }), { a: "[secret]" });
        });
    }

    it("the primary exports every output the standby reads", () => {
        const outputs = planStack("us-east-1").outputs;
        for (const key of PRIMARY_OUTPUT_KEYS) assert.ok(key in outputs, `primary does not export ${key}`);
    });

    it("bad config fails the plan with the key, the value and what is allowed", () => {
        const r = planStackFailing({ frontendReplicas: "2" });
        assert.match(r, /ops-center-ha:frontendReplicas = "2": must be an integer from 3 to 50 in a region built as primary/);
    });

    it("--render writes every rendered file of the stack, secrets redacted", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
        try {
            const r = cli("us-east-1", "--render", dir);
            assert.equal(r.status, 0, r.stderr);
            const root = path.join(dir, "us-east-1");
            const files = (sub: string) => fs.readdirSync(path.join(root, sub));
            for (const f of ["opscenter-traefik-static-", "opscenter-haproxy-", "opscenter-redis-1-conf-", "opscenter-redis-sentinel-1-conf-", "opscenter-prometheus-", "opscenter-alert-rules-", "opscenter-alertmanager-", "opscenter-spilo-entrypoint-"]) {
                assert.ok(files("swarm-configs").some((x) => x.startsWith(f)), `no rendered ${f}*`);
            }
            assert.ok(files("hosts").some((x) => x.endsWith(".cloud-init.yaml")), "host cloud-init");
            assert.equal(files("ssm").filter((x) => /keepalived-edge-\d$/.test(x)).length, 2, "keepalived.conf per edge host, readable");
            assert.ok(files("ssm").some((x) => x.endsWith(".redacted")), "the keepalived auth include is redacted");
            const all = fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
            for (const e of all) {
                const text = fs.readFileSync(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name), "utf8");
                assert.doesNotMatch(text, /mock[0-9a-f]{16,}/, `${e.name} holds a generated secret`);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("an unknown stack is named, with the stacks that exist", () => {
        const r = cli("eu-west-9");
        assert.equal(r.status, 1);
        assert.match(r.stderr, /no stack file Pulumi\.eu-west-9\.yaml; stacks here: us-east-1, us-west-2/);
    });
});

function planStackFailing(overrides: Record<string, string>): string {
    try {
        planStack("us-east-1", overrides);
    } catch (e) {
        return e instanceof Error ? e.message : String(e);
    }
    assert.fail("the plan accepted bad config");
}
