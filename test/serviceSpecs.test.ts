/**
 * Every Swarm service of both stacks, as the policy pack's container rules want it (issue 9): a health check run by
 * a tool the pinned image has (lib/images.ts healthTool), limits and reservations from lib/sizing.ts's table, and
 * start-first with rollback for the stateless helpers (exporters, socket proxy). Authenticated checks read the
 * password from the secret file, never from the spec.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { factsOfReference } from "../lib/images";
import { TIER_SIZES, tierResources } from "../lib/sizing";
import { ofType, planStack, unwrap } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const SERVICE = "docker:index/service:Service";

for (const stack of ["us-east-1", "us-west-2"] as const) {
    describe(`service specs: ${stack}`, () => {
        const services = (): Json[] => ofType(planStack(stack), SERVICE).map((r) => unwrap(r.inputs) as Json);
        it("every service has a health check whose executable is the one its image ships (lib/images.ts healthTool)", () => {
            const missing: string[] = [];
            for (const s of services()) {
                const tests: string[] = s.taskSpec.containerSpec.healthcheck?.tests ?? [];
                const facts = factsOfReference(s.taskSpec.containerSpec.image);
                assert.ok(facts, `${s.name}: image ${s.taskSpec.containerSpec.image} is not in lib/images.ts`);
                if (tests.length < 2 || tests[0] === "NONE") {
                    missing.push(s.name);
                    continue;
                }
                assert.ok(facts.healthTool, `${s.name}: lib/images.ts records no healthTool for ${facts.key}`);
                const shellWrapped = tests[0] === "CMD-SHELL" || ["sh", "bash"].includes(tests[1]);
                assert.ok(tests.join(" ").includes(facts.healthTool!) || (shellWrapped && facts.healthTool === "sh"), `${s.name}: check ${JSON.stringify(tests)} does not run ${facts.healthTool}`);
            }
            assert.deepEqual(missing, [], "services without a health check");
        });
        it("no health check carries a password: authenticated checks read the secret file", () => {
            for (const s of services()) {
                const text = ((s.taskSpec.containerSpec.healthcheck?.tests ?? []) as string[]).join(" ");
                if (/redis-cli/.test(text) && !/sentinel/.test(s.name)) assert.match(text, /REDISCLI_AUTH="\$\(cat \/run\/secrets\//, `${s.name}`);
                assert.doesNotMatch(text, /-a\s|requirepass|PASSWORD=/i, s.name);
            }
        });
        it("every service has limits and reservations from lib/sizing.ts's table", () => {
            const key = (l: Json, r: Json) => [l?.nanoCpus, l?.memoryBytes, r?.nanoCpus, r?.memoryBytes].join("/");
            const sizes = Object.keys(TIER_SIZES).map((t) => tierResources(t as keyof typeof TIER_SIZES)).map((x) => key(x.limit, x.reservation));
            const bad = services()
                .filter((s) => {
                    const r = s.taskSpec.resources;
                    return !r?.limits || !r?.reservation || !sizes.includes(key(r.limits, r.reservation));
                })
                .map((s) => s.name);
            assert.deepEqual(bad, []);
        });
        it("the exporters and the socket proxy update start-first and roll back", () => {
            const helpers = services().filter((s) => /(redis|postgres|blackbox)-exporter$|socket-proxy$/.test(s.name));
            assert.equal(helpers.length, stack === "us-east-1" ? 4 : helpers.length);
            for (const s of helpers) {
                assert.equal(s.updateConfig?.order, "start-first", s.name);
                assert.equal(s.updateConfig?.failureAction, "rollback", s.name);
                assert.equal(s.rollbackConfig?.order, "start-first", s.name);
            }
        });
    });
}
