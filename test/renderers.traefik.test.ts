import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
    TRAEFIK_DEFAULTS,
    TraefikInput,
    renderTraefikDynamicTls,
    renderTraefikStatic,
    traefikLabels,
} from "../renderers/traefik";

const acme: TraefikInput = { network: "edge", tls: { mode: "acme-dns01", email: "ops@example.com" } };
const secret: TraefikInput = {
    network: "edge",
    tls: { mode: "certificate-secret", certSecret: "edge_tls_cert", keySecret: "edge_tls_key" },
    dashboard: { host: "traefik.example.com", usersSecret: "traefik_dashboard_users" },
};

describe("renderTraefikStatic", () => {
    it("uses the v3 swarm provider, never the v2 docker.swarmMode", () => {
        const text = renderTraefikStatic(acme);
        const cfg = parse(text);
        assert.deepEqual(cfg.providers.swarm, {
            endpoint: "unix:///var/run/docker.sock",
            exposedByDefault: false,
            network: "edge",
            watch: true,
            refreshSeconds: 15,
        });
        assert.equal(cfg.providers.docker, undefined);
        assert.doesNotMatch(text, /swarmMode/i);
        assert.deepEqual(cfg.providers.file, { filename: TRAEFIK_DEFAULTS.dynamicConfigPath, watch: false });
    });

    it("has web :80 redirecting to websecure :443, and ping + metrics on the internal :8082 entrypoint", () => {
        const cfg = parse(renderTraefikStatic(acme));
        assert.equal(cfg.entryPoints.web.address, ":80");
        assert.deepEqual(cfg.entryPoints.web.http.redirections.entryPoint, { to: "websecure", scheme: "https", permanent: true });
        assert.equal(cfg.entryPoints.websecure.address, ":443");
        assert.equal(cfg.entryPoints.traefik.address, ":8082");
        assert.deepEqual(cfg.ping, { entryPoint: "traefik" });
        assert.equal(cfg.metrics.prometheus.entryPoint, "traefik");
        assert.deepEqual(cfg.accessLog, { format: "json" });
    });

    it("bounds the dial to a backend, so a request sent to a dead host's task is retried after 2 s, not Traefik's 30 s default", () => {
        // The task stays in Traefik's server list until its health check fails (5 s interval, 2 s timeout); a request
        // sent there meanwhile waits the dial timeout (default 30 s, cli-ref.md) before the retry takes it elsewhere.
        const cfg = parse(renderTraefikStatic(acme));
        assert.deepEqual(cfg.serversTransport, { forwardingTimeouts: { dialTimeout: TRAEFIK_DEFAULTS.dialTimeout } });
        assert.equal(TRAEFIK_DEFAULTS.dialTimeout, "2s");
    });

    it("turns the dashboard off by default and never insecure", () => {
        assert.deepEqual(parse(renderTraefikStatic(acme)).api, { dashboard: false, insecure: false });
        assert.deepEqual(parse(renderTraefikStatic(secret)).api, { dashboard: true, insecure: false });
    });

    it("renders an ACME DNS-01 resolver through Route53 with per-node storage", () => {
        const r = parse(renderTraefikStatic(acme)).certificatesResolvers.le.acme;
        assert.equal(r.email, "ops@example.com");
        assert.equal(r.storage, "/letsencrypt/acme.json");
        assert.equal(r.dnsChallenge.provider, "route53");
        assert.equal(r.httpChallenge, undefined);
        assert.equal(r.tlsChallenge, undefined);
    });

    it("has no resolver in certificate-secret mode", () => {
        assert.equal(parse(renderTraefikStatic(secret)).certificatesResolvers, undefined);
    });

    it("rejects bad inputs, naming the field", () => {
        assert.throws(() => renderTraefikStatic({ ...acme, webPort: 0 }), /webPort: 0/);
        assert.throws(() => renderTraefikStatic({ ...acme, websecurePort: 70000 }), /websecurePort: 70000/);
        assert.throws(() => renderTraefikStatic({ ...acme, pingPort: 443 }), /must be three different ports/);
        assert.throws(() => renderTraefikStatic({ ...acme, network: "bad net" }), /network: 'bad net'/);
        assert.throws(() => renderTraefikStatic({ ...acme, tls: { mode: "acme-dns01", email: "nope" } }), /tls.email: 'nope'/);
        assert.throws(() => renderTraefikStatic({ ...secret, dashboard: { host: "Bad_Host", usersSecret: "x" } }), /dashboard.host: 'Bad_Host'/);
    });
});

describe("renderTraefikDynamicTls", () => {
    it("lists the shared certificate from Swarm secret files, without key material", () => {
        const text = renderTraefikDynamicTls(secret);
        const cfg = parse(text);
        const pair = { certFile: "/run/secrets/edge_tls_cert", keyFile: "/run/secrets/edge_tls_key" };
        assert.deepEqual(cfg.tls.certificates, [pair]);
        assert.deepEqual(cfg.tls.stores.default.defaultCertificate, pair);
        assert.equal(cfg.tls.options.default.minVersion, "VersionTLS12");
        assert.doesNotMatch(text, /BEGIN/);
    });

    it("puts the dashboard behind basic auth with the users file from a Swarm secret", () => {
        const cfg = parse(renderTraefikDynamicTls(secret));
        assert.deepEqual(cfg.http.routers.dashboard, {
            rule: "Host(`traefik.example.com`)",
            entryPoints: ["websecure"],
            service: "api@internal",
            middlewares: ["dashboard-auth"],
            tls: {},
        });
        assert.equal(cfg.http.middlewares["dashboard-auth"].basicAuth.usersFile, "/run/secrets/traefik_dashboard_users");
    });

    it("has no certificates or dashboard router in ACME mode without dashboard", () => {
        const cfg = parse(renderTraefikDynamicTls(acme));
        assert.equal(cfg.tls.certificates, undefined);
        assert.equal(cfg.http, undefined);
    });
});

describe("traefikLabels", () => {
    const route = {
        name: "backend",
        host: "api.example.com",
        port: 8000,
        network: "edge",
        tls: acme.tls,
        healthCheckPath: "/healthz",
        stickyCookieName: "oc_backend",
    };

    it("routes Host() on websecure with the resolver, port, health check, sticky cookie and middlewares", () => {
        const l = traefikLabels(route);
        assert.equal(l["traefik.enable"], "true");
        assert.equal(l["traefik.swarm.network"], "edge");
        assert.equal(l["traefik.http.routers.backend.rule"], "Host(`api.example.com`)");
        assert.equal(l["traefik.http.routers.backend.entrypoints"], "websecure");
        assert.equal(l["traefik.http.routers.backend.tls.certresolver"], "le");
        assert.equal(l["traefik.http.routers.backend.middlewares"], "backend-retry,backend-cb");
        assert.equal(l["traefik.http.services.backend.loadbalancer.server.port"], "8000");
        assert.equal(l["traefik.http.services.backend.loadbalancer.healthcheck.path"], "/healthz");
        assert.equal(l["traefik.http.services.backend.loadbalancer.sticky.cookie"], "true");
        assert.equal(l["traefik.http.services.backend.loadbalancer.sticky.cookie.name"], "oc_backend");
        assert.equal(l["traefik.http.services.backend.loadbalancer.sticky.cookie.secure"], "true");
        assert.equal(l["traefik.http.services.backend.loadbalancer.sticky.cookie.httponly"], "true");
        assert.equal(l["traefik.http.middlewares.backend-retry.retry.attempts"], "3");
        assert.equal(
            l["traefik.http.middlewares.backend-cb.circuitbreaker.expression"],
            "NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25",
        );
    });

    it("uses tls=true without resolver in certificate-secret mode, and no sticky labels when not asked", () => {
        const l = traefikLabels({ ...route, tls: secret.tls, stickyCookieName: undefined });
        assert.equal(l["traefik.http.routers.backend.tls"], "true");
        assert.equal(l["traefik.http.routers.backend.tls.certresolver"], undefined);
        assert.equal(Object.keys(l).some((k) => k.includes("sticky")), false);
    });

    it("rejects bad host names, ports and names", () => {
        assert.throws(() => traefikLabels({ ...route, host: "api example.com" }), /host: 'api example.com'/);
        assert.throws(() => traefikLabels({ ...route, port: 0 }), /port: 0/);
        assert.throws(() => traefikLabels({ ...route, port: 1.5 }), /port: 1.5/);
        assert.throws(() => traefikLabels({ ...route, name: "Backend" }), /name: 'Backend'/);
        assert.throws(() => traefikLabels({ ...route, retryAttempts: 0 }), /retryAttempts: 0/);
        assert.throws(() => traefikLabels({ ...route, circuitBreakerExpression: "rm -rf /" }), /circuitBreakerExpression/);
    });
});
