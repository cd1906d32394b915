/**
 * Traefik: the pinned release reads every option and label we emit (lib/traefikOptions.ts, read from its docs).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { keySpec } from "../config/keys";
import { isDocumentedLabel, isDocumentedStaticOption, staticKeys, TRAEFIK_PIN } from "../lib/traefikOptions";
import { renderTraefikStatic, TRAEFIK_DEFAULTS } from "../renderers/traefik";
import { ConfigError, validateConfig } from "../config/validate";
import { readStackConfig } from "../offline/engine";
import { ofType, planStack, ROOT, STACKS, unwrap } from "./harness";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("Traefik options", () => {
    it("the pinned image is a v3 release from v3.3 on (the traefik.swarm.* labels), the same in keys and renderer", () => {
        assert.equal(keySpec("traefikImage").default, TRAEFIK_PIN.image);
        assert.equal(TRAEFIK_DEFAULTS.image, TRAEFIK_PIN.image);
        const m = /:v3\.(\d+)\.\d+$/.exec(TRAEFIK_PIN.image);
        assert.ok(m && Number(m[1]) >= TRAEFIK_PIN.minimumMinor, TRAEFIK_PIN.image);
    });
    it("a Traefik before v3.3 is refused: it ignores traefik.swarm.network and traefik.swarm.lbswarm", () => {
        const { values } = readStackConfig(ROOT, "us-east-1");
        const own: Record<string, string> = {};
        for (const [k, v] of Object.entries(values)) if (k.startsWith("ops-center-ha:")) own[k.slice(14)] = v;
        own.traefikImage = "traefik:v3.1.7";
        assert.throws(
            () => validateConfig({ stack: "us-east-1", region: "us-east-1", keys: Object.keys(own), get: (k) => own[k] }),
            (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.includes("ops-center-ha:traefikImage") && p.includes('"traefik:v3.1.7"') && /v3\.3/.test(p)),
        );
    });
    for (const tls of [{ mode: "acme-dns01" as const, email: "ops@example.com" }, { mode: "certificate-secret" as const, certSecret: "tls_cert", keySecret: "tls_key" }]) {
        it(`every key of the rendered traefik.yml (${tls.mode}) is a documented static option`, () => {
            const keys = staticKeys(parse(renderTraefikStatic({ network: "opscenter-edge", tls, swarmEndpoint: "tcp://opscenter-socket-proxy:2375" })));
            assert.ok(keys.length > 10);
            assert.deepEqual(keys.filter((k) => !isDocumentedStaticOption(k)), []);
        });
    }
    for (const stack of STACKS) {
        it(`${stack}: every traefik.* label of every service is documented, and so is the --configFile flag`, () => {
            const services = ofType(planStack(stack), "docker:index/service:Service").map((r) => unwrap(r.inputs) as Json);
            const labels = services.flatMap((s) => (s.labels ?? []).map((l: Json) => String(l.label))).filter((l) => l.startsWith("traefik."));
            assert.ok(labels.length > 20);
            assert.deepEqual(labels.filter((l) => !isDocumentedLabel(l)), []);
            const t = services.find((s) => s.name === "opscenter-traefik")!;
            assert.equal(t.taskSpec.containerSpec.image, TRAEFIK_PIN.image);
            assert.deepEqual(t.taskSpec.containerSpec.args, [`--configFile=${TRAEFIK_DEFAULTS.staticConfigPath}`]);
        });
    }
    it("the matchers refuse what the release does not document", () => {
        assert.equal(isDocumentedLabel("traefik.docker.network"), false);
        assert.equal(isDocumentedLabel("traefik.http.services.x.loadbalancer.healthcheck.path"), true);
        assert.equal(isDocumentedStaticOption("providers.docker.swarmMode"), false);
    });
});
