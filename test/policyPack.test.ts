/**
 * The pack as a whole: its shape (what `pulumi preview --policy-pack policies` loads), the offline runner's
 * faithfulness to the policy runtime, and the pack on both stacks' offline plans.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { ALL_POLICIES, AREAS, PACK_NAME, PACK_VERSION } from "../policies/all";
import { withExemptions } from "../policies/exemptions";
import { ec2Imdsv2 } from "../policies/compute";
import { haWebReplicas } from "../policies/stack";
import { s3BucketVersioned } from "../policies/storage";
import { loadPlanFile } from "../offline/planFile";
import { formatReport, reportJson, runPack } from "../offline/policyReport";
import { blocks, evaluatePolicies, levelOf, PlanLike } from "../offline/policyRun";
import { planStack, PlanFailed, ROOT, STACKS } from "./harness";

const POLICIES = path.join(ROOT, "policies");

describe("policy pack shape", () => {
    it("has PulumiPolicy.yaml (nodejs), its own package.json with a version, and an index.ts", () => {
        assert.equal(parse(fs.readFileSync(path.join(POLICIES, "PulumiPolicy.yaml"), "utf8")).runtime, "nodejs");
        const pkg = JSON.parse(fs.readFileSync(path.join(POLICIES, "package.json"), "utf8"));
        assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
        assert.equal(PACK_VERSION, pkg.version);
        assert.equal(pkg.dependencies["@pulumi/policy"], JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).devDependencies["@pulumi/policy"]);
        assert.match(PACK_NAME, /^[a-zA-Z0-9-_.]{1,100}$/, "the runtime's packNameRE");
    });
    it("policies/index.ts starts the pack's analyzer server, as the Pulumi CLI runs it (it prints its port)", async () => {
        // Run from policies/ (the runtime reads the version from ./package.json); stopped by its pid, bounded.
        const child = spawn(process.execPath, ["--import", "tsx", "index.ts"], { cwd: POLICIES, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        try {
            const port = await new Promise<string>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`no port within 60 s: ${err}`)), 60_000);
                child.stdout.on("data", (d) => {
                    out += d;
                    if (out.includes("\n")) {
                        clearTimeout(timer);
                        resolve(out.split("\n")[0]);
                    }
                });
                child.on("exit", (code) => {
                    clearTimeout(timer);
                    reject(new Error(`the pack exited ${code}: ${err}`));
                });
            });
            assert.match(port, /^\d+$/);
        } finally {
            child.kill("SIGTERM");
        }
    });
    it("builds `new PolicyPack` only in policies/index.ts (it starts a gRPC server)", () => {
        const files = fs.readdirSync(POLICIES).filter((f) => f.endsWith(".ts"));
        const withPack = files.filter((f) => /new PolicyPack\(/.test(fs.readFileSync(path.join(POLICIES, f), "utf8")));
        assert.deepEqual(withPack, ["index.ts"]);
    });
    it("has at least 30 policies in six areas, each named, with severity and a one-line remediation", () => {
        assert.ok(ALL_POLICIES.length >= 30, `${ALL_POLICIES.length}`);
        assert.deepEqual(Object.keys(AREAS), ["storage", "network", "compute", "containers", "dns", "stack"]);
        assert.equal(new Set(ALL_POLICIES.map((p) => p.name)).size, ALL_POLICIES.length, "unique names");
        for (const p of ALL_POLICIES) {
            assert.notEqual(p.name, "all", "all is reserved");
            assert.match(p.name, /^[a-z0-9-]+$/);
            assert.ok(["low", "medium", "high", "critical"].includes(p.severity), p.name);
            assert.ok(p.remediationSteps.length > 10 && !p.remediationSteps.includes("\n"), `${p.name}: one-line remediation`);
            assert.ok(!p.configSchema?.properties?.enforcementLevel && !p.configSchema?.required?.includes("enforcementLevel"), `${p.name}: the runtime refuses enforcementLevel in a schema`);
            for (const [k, s] of Object.entries(p.configSchema?.properties ?? {})) assert.ok(s.default !== undefined, `${p.name}.${k} has a default`);
        }
    });
    it("every policy is exercised by an area test file (its exported constant is used there)", async () => {
        const tests = ["storage", "network", "containers", "stack", "lifecycle"].map((a) => fs.readFileSync(path.join(ROOT, `test/policies.${a}.test.ts`), "utf8")).join("\n");
        const exported = new Map<unknown, string>();
        for (const m of ["storage", "network", "compute", "containers", "dns", "stack"]) {
            for (const [k, v] of Object.entries(await import(`../policies/${m}`))) exported.set(v, k);
        }
        const missing = ALL_POLICIES.filter((p) => !exported.has(p) || !new RegExp(`\\b${exported.get(p)}\\b`).test(tests));
        assert.deepEqual(missing.map((p) => p.name), []);
    });
});

/** A tiny plan with one instance. */
function onePlan(inputs: Record<string, unknown>): PlanLike {
    return { project: "ops-center-ha", stack: "t", resources: [{ urn: "urn:pulumi:t::ops-center-ha::aws:ec2/instance:Instance::h", type: "aws:ec2/instance:Instance", name: "h", inputs }] };
}
const run = (plan: PlanLike, extra: Partial<Parameters<typeof evaluatePolicies>[1]> = {}) => evaluatePolicies(plan, { pack: "p", version: "1.0.0", policies: [ec2Imdsv2], packLevel: "mandatory", ...extra });

describe("offline runner (as @pulumi/policy's server builds the args)", () => {
    it("an unknown value (preview) is reported as could-not-be-evaluated and blocks, never a pass", async () => {
        const r = await run(onePlan({ metadataOptions: { httpTokens: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } }));
        assert.equal(r.findings.length, 1);
        assert.equal(r.findings[0].level, "not-evaluated");
        assert.match(r.findings[0].message, /can't run policy 'ec2-imdsv2'.*during preview: string value at \.metadataOptions\.httpTokens/);
        assert.ok(blocks(r));
    });
    it("`all` overrides every policy's level; a policy's own entry overrides `all`; disabled skips", async () => {
        assert.equal(levelOf(ec2Imdsv2, { all: "advisory" }, "mandatory"), "advisory");
        assert.equal(levelOf(ec2Imdsv2, { all: "advisory", "ec2-imdsv2": { enforcementLevel: "mandatory" } }, "mandatory"), "mandatory");
        const bad = onePlan({ metadataOptions: { httpTokens: "optional" } });
        assert.equal((await run(bad, { config: { all: "advisory" } })).findings[0].level, "advisory");
        assert.ok(!blocks(await run(bad, { config: { all: "advisory" } })));
        assert.equal((await run(bad, { config: { "ec2-imdsv2": "disabled" } })).evaluated, 0);
    });
    it("config: schema defaults apply, configured values win", async () => {
        const hop3 = onePlan({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 3 } });
        assert.equal((await run(hop3)).findings.length, 1, "default maxHopLimit 2");
        assert.equal((await run(hop3, { config: { "ec2-imdsv2": { maxHopLimit: 3 } } })).findings.length, 0);
    });
    it("secrets reach policies as plain values (deserializeProperties without proxySecrets)", async () => {
        const r = await run(onePlan({ metadataOptions: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { httpTokens: "required" } } }));
        assert.deepEqual(r.findings, []);
    });
    it("stack policies report notApplicable with its reason", async () => {
        const r = await evaluatePolicies(onePlan({}), { pack: "p", version: "1", policies: [s3BucketVersioned, haWebReplicas] });
        assert.deepEqual(Object.keys(r.notApplicable).sort(), ["ha-web-replicas", "s3-bucket-versioned"]);
    });
    it("an exemption needs a reason, is shown with it, and an unused one is reported", async () => {
        assert.throws(() => withExemptions([ec2Imdsv2], [{ policy: "ec2-imdsv2", resource: "x", reason: "" }], () => undefined), /written reason/);
        const ex = { policy: "ec2-imdsv2", resource: "aws:ec2/instance:Instance::h", reason: "a lab host without containers, see README" };
        const r = await run(onePlan({ metadataOptions: { httpTokens: "optional" } }), { exemptions: [ex] });
        assert.deepEqual(r.findings, []);
        assert.equal(r.exempt[0].reason, ex.reason);
        assert.match(formatReport(r), /Exempted \(not counted\):\n {4}ec2-imdsv2 on h: a lab host/);
        const unused = await run(onePlan({ metadataOptions: { httpTokens: "required" } }), { exemptions: [ex] });
        assert.equal(unused.unusedExemptions.length, 1);
    });
    it("reads `pulumi preview --json` output: steps' newState, unknowns kept as sentinels", () => {
        const plan = loadPlanFile(JSON.stringify({ steps: [{ op: "create", urn: "urn:pulumi:s::p::aws:ec2/instance:Instance::h", newState: { urn: "urn:pulumi:s::p::aws:ec2/instance:Instance::h", type: "aws:ec2/instance:Instance", inputs: { ami: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } } }] }));
        assert.equal(plan.stack, "s");
        assert.equal(plan.resources[0].inputs.ami, "04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    });
    it("--json gives pack, policy, level, urn and message per violation", async () => {
        const j = JSON.parse(reportJson(await run(onePlan({}))));
        assert.deepEqual(Object.keys(j.violations[0]).sort(), ["level", "message", "pack", "policy", "urn"]);
    });
});

describe("npm run policy (the CLI)", () => {
    const cli = (plan: PlanLike, ...flags: string[]) => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-")), "plan.json");
        fs.writeFileSync(file, JSON.stringify(plan));
        return spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/policy.ts"), "t", "--plan", file, ...flags], { cwd: ROOT, encoding: "utf8" });
    };
    const rule = (cidrIpv4: string) => ({ project: "ops-center-ha", stack: "t", resources: [{ urn: "urn:pulumi:t::ops-center-ha::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::ssh", type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "ssh", inputs: { cidrIpv4, ipProtocol: "tcp", fromPort: 22, toPort: 22, description: "SSH" } }] });
    it("exits 1 and prints the violation like pulumi preview --policy-pack on a mandatory violation", () => {
        const r = cli(rule("0.0.0.0/0"));
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stdout, /\[mandatory\] {2}ops-center-ha-policies v0\.1\.0 {2}sg-no-world-ssh \(ssh: aws:vpc\/securityGroupIngressRule:SecurityGroupIngressRule\)/);
    });
    it("exits 0 on a compliant plan; --json names pack, policy, level, urn, message", () => {
        const r = cli(rule("198.51.100.0/24"), "--json");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.equal(JSON.parse(r.stdout).passed, true);
    });
});

describe("the pack on the offline plans", () => {
    for (const stack of STACKS) {
        it(`${stack}: zero mandatory violations`, async () => {
            const r = await runPack(planStack(stack) as PlanLike);
            const mandatory = r.findings.filter((f) => f.policyLevel === "mandatory");
            assert.equal(mandatory.length, 0, formatReport(r));
        });
    }
    it("hosts that cannot hold their tasks (r6i.large data hosts in the primary): the validator stops it first (issue 8), and ha-reservations-fit catches it in a plan", async () => {
        assert.throws(() => planStack("us-east-1", { dataInstanceType: "r6i.large" }), (e: unknown) => e instanceof PlanFailed && /dataInstanceType = "r6i.large" does not fit/.test(e.message));
        const plan = JSON.parse(JSON.stringify(planStack("us-east-1"))) as PlanLike;
        for (const x of plan.resources) {
            const inputs = x.inputs as { instanceType?: string; tags?: Record<string, string> };
            if (x.type === "aws:ec2/instance:Instance" && inputs.tags?.role === "data") inputs.instanceType = "r6i.large";
        }
        const r = await runPack(plan);
        const fit = r.findings.filter((f) => f.policy === "ha-reservations-fit" && /opscenter-pg-1: CPU limit 4 exceeds host data-0 \(r6i.large, 2 vCPU\)/.test(f.message));
        assert.equal(fit.length, 1, formatReport(r));
    });
    it("one frontend replica in the primary: the validator stops it first, and the pack catches it in a plan", async () => {
        assert.throws(() => planStack("us-east-1", { frontendReplicas: "1" }), (e: unknown) => e instanceof PlanFailed && /frontendReplicas/.test(e.message));
        const plan = JSON.parse(JSON.stringify(planStack("us-east-1"))) as PlanLike;
        const fe = plan.resources.find((x) => x.name === "ops-frontend-service")!;
        (fe.inputs as { mode: { replicated: { replicas: number } } }).mode.replicated.replicas = 1;
        const r = await runPack(plan);
        const web = r.findings.filter((f) => f.policy === "ha-web-replicas");
        assert.equal(web.length, 1);
        assert.match(web[0].message, /opscenter-frontend: 1 replica\(s\), a primary needs at least 3/);
    });
    it("both stacks: every finding names a policy of the pack and a resource or the stack", async () => {
        for (const stack of STACKS) {
            const r = await runPack(planStack(stack) as PlanLike);
            assert.equal(r.evaluated, ALL_POLICIES.length);
            for (const f of r.findings) assert.ok(ALL_POLICIES.some((p) => p.name === f.policy));
            assert.deepEqual(r.findings.filter((f) => f.level === "not-evaluated"), [], "the offline plan has no unknown values");
        }
    });
});
