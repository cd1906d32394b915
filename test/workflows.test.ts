/**
 * The GitHub workflows, validated by a maintained validator (@action-validator/core: GitHub's workflow schema
 * compiled to WebAssembly) and checked for what the project requires of them.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { ROOT } from "./harness";

const DIR = path.join(ROOT, ".github/workflows");
const read = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

describe("GitHub workflows", () => {
    for (const f of fs.readdirSync(DIR).filter((n) => /\.ya?ml$/.test(n))) {
        it(`${f} is a valid workflow`, () => assert.deepEqual(validateWorkflow(read(f)).errors, []));
    }
    it("the validator does catch a broken workflow", () => {
        assert.notDeepEqual(validateWorkflow("on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n").errors, []);
    });

    const pr: Doc = parse(read("pull-request.yml"));
    it("pull requests: one offline job per stack with no cloud credentials (works on forks)", () => {
        const job = pr.jobs.offline;
        assert.deepEqual(job.strategy.matrix.stack, ["us-east-1", "us-west-2"]);
        const text = JSON.stringify(job);
        assert.ok(!/secrets\.|id-token|aws-actions|pulumi\/actions/.test(text), "no secret, no OIDC, no cloud action");
        const runs = job.steps.map((s: Doc) => s.run).filter(Boolean).join("\n");
        for (const cmd of ["npm ci", "npm run build", "npm run test:unit", "npm run pr:offline -- ${{ matrix.stack }} --base origin/${{ github.base_ref }}"]) assert.ok(runs.includes(cmd), cmd);
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        for (const s of ["build", "test:unit", "pr:offline"]) assert.ok(pkg.scripts[s], `npm script ${s}`);
        const sticky = job.steps.find((s: Doc) => /github-script/.test(s.uses ?? ""));
        assert.match(sticky.with.script, /ops-center-ha:pr-comment:\$\{process\.env\.STACK\}/, "one sticky comment per stack, keyed by stack");
        assert.match(sticky.with.script, /updateComment/, "edited in place");
    });
    it("pull requests: with credentials, pulumi/actions (current major) previews with the pack, refresh and a PR comment, by OIDC", () => {
        const job = pr.jobs.preview;
        assert.match(job.if, /head\.repo\.full_name == github\.repository/, "never on forks");
        assert.equal(job.permissions["id-token"], "write");
        const step = job.steps.find((s: Doc) => /^pulumi\/actions@/.test(s.uses ?? ""));
        assert.equal(step.uses, "pulumi/actions@v7");
        assert.equal(step.with.command, "preview");
        assert.equal(step.with["comment-on-pr"], true);
        assert.equal(step.with.refresh, true);
        assert.equal(step.with.policyPacks, "policies");
        assert.ok(!/AWS_ACCESS_KEY|PULUMI_ACCESS_TOKEN/.test(read("pull-request.yml")), "no stored keys");
    });
    it("workflow-level permissions are read-only; writes are granted per job", () => {
        for (const f of ["pull-request.yml", "deploy.yml"]) assert.deepEqual(parse(read(f)).permissions, { contents: "read" }, f);
    });

    const deploy: Doc = parse(read("deploy.yml"));
    it("pushes to main: up us-east-1, then us-west-2, each behind an environment, one deploy per stack at a time", () => {
        assert.deepEqual(deploy.on.push.branches, ["main"]);
        const east = deploy.jobs["up-us-east-1"];
        const west = deploy.jobs["up-us-west-2"];
        assert.equal(west.needs, "up-us-east-1");
        for (const [stack, job] of [["us-east-1", east], ["us-west-2", west]] as const) {
            assert.equal(job.environment, stack);
            assert.equal(job.concurrency.group, `deploy-${stack}`);
            assert.equal(job.concurrency["cancel-in-progress"], false);
            const step = job.steps.find((s: Doc) => /^pulumi\/actions@/.test(s.uses ?? ""));
            assert.equal(step.with.command, "up");
            assert.equal(step.with.policyPacks, "policies");
            assert.match(step.with["stack-name"], new RegExp(`/ops-center-ha/${stack}$`));
        }
    });
    it("the policy pack installs from its own lockfile in the workflows", () => {
        assert.ok(fs.existsSync(path.join(ROOT, "policies/package-lock.json")));
    });
});
