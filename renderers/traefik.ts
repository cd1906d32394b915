/**
 * Traefik v3 configuration for the edge pair: the static `traefik.yml`, the dynamic file (TLS material and the
 * optional dashboard router) and the Swarm service labels that route a service through Traefik.
 *
 * Pure functions, no I/O. Traefik v3 reads Swarm services through `providers.swarm`; the v2 form
 * `providers.docker.swarmMode` stops v3 from starting, so it is never rendered.
 *
 * Two Traefik instances (one per edge host) cannot share HTTP-01 ACME state, so TLS is either
 * ACME DNS-01 through Route53 (each node keeps its own `acme.json`; DNS-01 does not care which node answers)
 * or one certificate delivered to both nodes as Swarm secrets and listed in the dynamic file.
 */
import { stringify } from "yaml";

export const TRAEFIK_DEFAULTS = {
    /** Pinned Traefik v3 image (a real release tag; lib/traefikOptions.ts lists what it reads). */
    image: "traefik:v3.6.24",
    webPort: 80,
    websecurePort: 443,
    /** Internal entrypoint for /ping (keepalived's check) and /metrics (Prometheus). */
    pingPort: 8082,
    pingEntryPoint: "traefik",
    /** Where the Swarm config with the static file is mounted. */
    staticConfigPath: "/etc/traefik/traefik.yml",
    /** Where the Swarm config with the dynamic file is mounted. */
    dynamicConfigPath: "/etc/traefik/dynamic.yml",
    swarmEndpoint: "unix:///var/run/docker.sock",
    /** Swarm provider polling interval (seconds). */
    swarmRefreshSeconds: 15,
    certResolver: "le",
    /** Per-node ACME storage (a host volume on each edge node). */
    acmeStorage: "/letsencrypt/acme.json",
    acmeCaServer: "https://acme-v02.api.letsencrypt.org/directory",
    /** Public resolvers used for the DNS-01 propagation check. */
    dnsResolvers: ["1.1.1.1:53", "8.8.8.8:53"],
    logLevel: "INFO",
    retryAttempts: 3,
    retryInitialInterval: "100ms",
    circuitBreakerExpression: "NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25",
    /**
     * Dial timeout to a backend task (static `serversTransport.forwardingTimeouts.dialTimeout`; Traefik's default is
     * 30 s, cli-ref.md). A dead host's tasks stay in the server list until their health check fails (interval 5 s,
     * timeout 2 s); a request sent to one meanwhile waits this long before the retry middleware takes it to another
     * task. Tasks are in the same VPC: a connect takes milliseconds.
     */
    dialTimeout: "2s",
    healthCheckInterval: "5s",
    healthCheckTimeout: "2s",
    stickyCookieSameSite: "lax",
} as const;

/** TLS by ACME DNS-01 through Route53 (credentials come from the EC2 instance role, not from config). */
export interface TraefikAcmeDnsTls {
    /** Discriminator. */
    readonly mode: "acme-dns01";
    /** Contact e-mail registered with the ACME CA. */
    readonly email: string;
    /** Resolver name used by router labels; default TRAEFIK_DEFAULTS.certResolver. */
    readonly resolverName?: string;
    /** Path of acme.json inside the container (per-node volume); default TRAEFIK_DEFAULTS.acmeStorage. */
    readonly storage?: string;
    /** ACME directory URL (set the staging URL for tests); default Let's Encrypt production. */
    readonly caServer?: string;
}

/** TLS from one certificate shared by both nodes as Swarm secrets (e.g. a Cloudflare Origin CA certificate). */
export interface TraefikSecretTls {
    /** Discriminator. */
    readonly mode: "certificate-secret";
    /** Swarm secret name holding the PEM certificate chain (mounted at /run/secrets/<name>). */
    readonly certSecret: string;
    /** Swarm secret name holding the PEM private key (mounted at /run/secrets/<name>). */
    readonly keySecret: string;
}

/** How Traefik obtains its certificates. */
export type TraefikTls = TraefikAcmeDnsTls | TraefikSecretTls;

/** The dashboard, served only behind basic auth on websecure. */
export interface TraefikDashboard {
    /** Host name the dashboard router answers on. */
    readonly host: string;
    /** Swarm secret holding the htpasswd users file (mounted at /run/secrets/<name>). */
    readonly usersSecret: string;
}

/** Input of {@link renderTraefikStatic} and {@link renderTraefikDynamicTls}. */
export interface TraefikInput {
    /** Name of the edge overlay network Traefik reaches services on. */
    readonly network: string;
    /** TLS mode: ACME DNS-01 (Route53) or one certificate from Swarm secrets. */
    readonly tls: TraefikTls;
    /** Dashboard behind basic auth; omitted = dashboard off. */
    readonly dashboard?: TraefikDashboard;
    /** HTTP entrypoint port; default 80. */
    readonly webPort?: number;
    /** HTTPS entrypoint port; default 443. */
    readonly websecurePort?: number;
    /** Internal ping/metrics entrypoint port; default 8082. */
    readonly pingPort?: number;
    /** Path of the dynamic file inside the container; default TRAEFIK_DEFAULTS.dynamicConfigPath. */
    readonly dynamicConfigPath?: string;
    /** Docker endpoint for the Swarm provider; default the local socket. */
    readonly swarmEndpoint?: string;
    /** Traefik log level; default INFO. */
    readonly logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
}

const HOST_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;
const SECRET_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const NETWORK_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PATH_RE = /^\/[A-Za-z0-9_./-]*$/;

export function validateHost(field: string, v: string): void {
    if (!HOST_RE.test(v)) throw new Error(`${field}: '${v}' is not a valid lower-case DNS host name`);
}

export function validatePort(field: string, v: number): void {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`${field}: ${v} is not a port (integer 1-65535)`);
}

function validate(field: string, v: string, re: RegExp, what: string): void {
    if (!re.test(v)) throw new Error(`${field}: '${v}' is not allowed (${what})`);
}

function ports(input: TraefikInput): { web: number; websecure: number; ping: number } {
    const p = {
        web: input.webPort ?? TRAEFIK_DEFAULTS.webPort,
        websecure: input.websecurePort ?? TRAEFIK_DEFAULTS.websecurePort,
        ping: input.pingPort ?? TRAEFIK_DEFAULTS.pingPort,
    };
    validatePort("webPort", p.web);
    validatePort("websecurePort", p.websecure);
    validatePort("pingPort", p.ping);
    if (new Set([p.web, p.websecure, p.ping]).size !== 3) {
        throw new Error(`webPort/websecurePort/pingPort: ${p.web}/${p.websecure}/${p.ping} must be three different ports`);
    }
    return p;
}

function validateInput(input: TraefikInput): void {
    validate("network", input.network, NETWORK_RE, "a Docker network name: letters, digits, _ . -");
    if (input.tls.mode === "acme-dns01") {
        validate("tls.email", input.tls.email, EMAIL_RE, "an e-mail address");
        if (input.tls.resolverName !== undefined) validate("tls.resolverName", input.tls.resolverName, NAME_RE, "lower-case letters, digits, -");
        if (input.tls.storage !== undefined) validate("tls.storage", input.tls.storage, PATH_RE, "an absolute path");
        if (input.tls.caServer !== undefined && !/^https:\/\/[^\s]+$/.test(input.tls.caServer)) {
            throw new Error(`tls.caServer: '${input.tls.caServer}' is not allowed (an https:// URL)`);
        }
    } else if (input.tls.mode === "certificate-secret") {
        validate("tls.certSecret", input.tls.certSecret, SECRET_RE, "a Swarm secret name");
        validate("tls.keySecret", input.tls.keySecret, SECRET_RE, "a Swarm secret name");
    } else {
        throw new Error(`tls.mode: '${(input.tls as { mode: string }).mode}' is not allowed (acme-dns01 or certificate-secret)`);
    }
    if (input.dashboard) {
        validateHost("dashboard.host", input.dashboard.host);
        validate("dashboard.usersSecret", input.dashboard.usersSecret, SECRET_RE, "a Swarm secret name");
    }
    if (input.dynamicConfigPath !== undefined) validate("dynamicConfigPath", input.dynamicConfigPath, PATH_RE, "an absolute path");
    if (input.swarmEndpoint !== undefined && !/^(unix|tcp):\/\/[^\s]+$/.test(input.swarmEndpoint)) {
        throw new Error(`swarmEndpoint: '${input.swarmEndpoint}' is not allowed (unix:// or tcp:// URL)`);
    }
}

/** The certificate resolver name routers must reference, or undefined in certificate-secret mode. */
export function traefikCertResolver(tls: TraefikTls): string | undefined {
    return tls.mode === "acme-dns01" ? (tls.resolverName ?? TRAEFIK_DEFAULTS.certResolver) : undefined;
}

const HEADER = "# Rendered by ops-center-ha (renderers/traefik.ts). Do not edit by hand.\n";

/** Static configuration (`traefik.yml`) for one Traefik v3 instance of the edge pair. */
export function renderTraefikStatic(input: TraefikInput): string {
    validateInput(input);
    const p = ports(input);
    const cfg: Record<string, unknown> = {
        global: { checkNewVersion: false, sendAnonymousUsage: false },
        log: { level: input.logLevel ?? TRAEFIK_DEFAULTS.logLevel },
        accessLog: { format: "json" },
        entryPoints: {
            web: {
                address: `:${p.web}`,
                http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } },
            },
            websecure: { address: `:${p.websecure}` },
            [TRAEFIK_DEFAULTS.pingEntryPoint]: { address: `:${p.ping}` },
        },
        ping: { entryPoint: TRAEFIK_DEFAULTS.pingEntryPoint },
        metrics: {
            prometheus: {
                entryPoint: TRAEFIK_DEFAULTS.pingEntryPoint,
                addEntryPointsLabels: true,
                addRoutersLabels: true,
                addServicesLabels: true,
            },
        },
        api: { dashboard: input.dashboard !== undefined, insecure: false },
        providers: {
            swarm: {
                endpoint: input.swarmEndpoint ?? TRAEFIK_DEFAULTS.swarmEndpoint,
                exposedByDefault: false,
                network: input.network,
                watch: true,
                refreshSeconds: TRAEFIK_DEFAULTS.swarmRefreshSeconds,
            },
            file: { filename: input.dynamicConfigPath ?? TRAEFIK_DEFAULTS.dynamicConfigPath, watch: false },
        },
        serversTransport: { forwardingTimeouts: { dialTimeout: TRAEFIK_DEFAULTS.dialTimeout } },
    };
    if (input.tls.mode === "acme-dns01") {
        cfg.certificatesResolvers = {
            [traefikCertResolver(input.tls)!]: {
                acme: {
                    email: input.tls.email,
                    storage: input.tls.storage ?? TRAEFIK_DEFAULTS.acmeStorage,
                    caServer: input.tls.caServer ?? TRAEFIK_DEFAULTS.acmeCaServer,
                    dnsChallenge: { provider: "route53", resolvers: [...TRAEFIK_DEFAULTS.dnsResolvers] },
                },
            },
        };
    }
    return HEADER + stringify(cfg);
}

/**
 * Dynamic file for the file provider: TLS options (TLS 1.2 minimum), the shared certificate in
 * certificate-secret mode, and the dashboard router with basic auth when the dashboard is on.
 * It holds only paths to secret files, never key material.
 */
export function renderTraefikDynamicTls(input: TraefikInput): string {
    validateInput(input);
    const tls: Record<string, unknown> = {
        options: { default: { minVersion: "VersionTLS12" } },
    };
    if (input.tls.mode === "certificate-secret") {
        const pair = { certFile: `/run/secrets/${input.tls.certSecret}`, keyFile: `/run/secrets/${input.tls.keySecret}` };
        tls.certificates = [pair];
        tls.stores = { default: { defaultCertificate: pair } };
    }
    const cfg: Record<string, unknown> = { tls };
    if (input.dashboard) {
        const resolver = traefikCertResolver(input.tls);
        cfg.http = {
            routers: {
                dashboard: {
                    rule: `Host(\`${input.dashboard.host}\`)`,
                    entryPoints: ["websecure"],
                    service: "api@internal",
                    middlewares: ["dashboard-auth"],
                    tls: resolver ? { certResolver: resolver } : {},
                },
            },
            middlewares: {
                "dashboard-auth": { basicAuth: { usersFile: `/run/secrets/${input.dashboard.usersSecret}`, removeHeader: true } },
            },
        };
    }
    return HEADER + stringify(cfg);
}

/** Input of {@link traefikLabels}: one routed Swarm service. */
export interface TraefikRouteInput {
    /** Router/service/middleware name prefix (lower-case letters, digits, -). */
    readonly name: string;
    /** Public host name the router matches (Host rule). */
    readonly host: string;
    /** Container port Traefik forwards to. */
    readonly port: number;
    /** Overlay network shared with Traefik (traefik.swarm.network). */
    readonly network: string;
    /** TLS mode of the edge, to pick certresolver (ACME) or plain tls=true (certificate-secret). */
    readonly tls: TraefikTls;
    /** Path Traefik's active health check requests, e.g. /healthz. */
    readonly healthCheckPath: string;
    /** Sticky-session cookie name; omitted = no stickiness. */
    readonly stickyCookieName?: string;
    /** Retry middleware attempts; default TRAEFIK_DEFAULTS.retryAttempts. */
    readonly retryAttempts?: number;
    /** Circuit breaker expression; default TRAEFIK_DEFAULTS.circuitBreakerExpression. */
    readonly circuitBreakerExpression?: string;
    /** Optional path prefix added to the Host rule (PathPrefix). */
    readonly pathPrefix?: string;
}

/** Swarm service labels (deploy.labels) that route `host` through the edge Traefik to this service. */
export function traefikLabels(r: TraefikRouteInput): Record<string, string> {
    validate("name", r.name, NAME_RE, "lower-case letters, digits, -, starting with a letter");
    validateHost("host", r.host);
    validatePort("port", r.port);
    validate("network", r.network, NETWORK_RE, "a Docker network name: letters, digits, _ . -");
    validate("healthCheckPath", r.healthCheckPath, PATH_RE, "an absolute URL path");
    if (r.pathPrefix !== undefined) validate("pathPrefix", r.pathPrefix, PATH_RE, "an absolute URL path");
    if (r.stickyCookieName !== undefined) validate("stickyCookieName", r.stickyCookieName, /^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ -");
    const attempts = r.retryAttempts ?? TRAEFIK_DEFAULTS.retryAttempts;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
        throw new Error(`retryAttempts: ${attempts} is not allowed (integer 1-10)`);
    }
    const expr = r.circuitBreakerExpression ?? TRAEFIK_DEFAULTS.circuitBreakerExpression;
    if (!/^[A-Za-z0-9_().,<>=|&!\s]+$/.test(expr) || !/(NetworkErrorRatio|ResponseCodeRatio|LatencyAtQuantileMS)\(/.test(expr)) {
        throw new Error(`circuitBreakerExpression: '${expr}' is not allowed (NetworkErrorRatio/ResponseCodeRatio/LatencyAtQuantileMS terms)`);
    }
    const n = r.name;
    const router = `traefik.http.routers.${n}`;
    const svc = `traefik.http.services.${n}.loadbalancer`;
    const rule = r.pathPrefix ? `Host(\`${r.host}\`) && PathPrefix(\`${r.pathPrefix}\`)` : `Host(\`${r.host}\`)`;
    const labels: Record<string, string> = {
        "traefik.enable": "true",
        "traefik.swarm.network": r.network,
        // Traefik balances over task IPs itself (needed for sticky cookies), not through the Swarm VIP.
        "traefik.swarm.lbswarm": "false",
        [`${router}.rule`]: rule,
        [`${router}.entrypoints`]: "websecure",
        [`${router}.tls`]: "true",
        [`${router}.service`]: n,
        [`${router}.middlewares`]: `${n}-retry,${n}-cb`,
        [`traefik.http.middlewares.${n}-retry.retry.attempts`]: String(attempts),
        [`traefik.http.middlewares.${n}-retry.retry.initialinterval`]: TRAEFIK_DEFAULTS.retryInitialInterval,
        [`traefik.http.middlewares.${n}-cb.circuitbreaker.expression`]: expr,
        [`${svc}.server.port`]: String(r.port),
        [`${svc}.healthcheck.path`]: r.healthCheckPath,
        [`${svc}.healthcheck.interval`]: TRAEFIK_DEFAULTS.healthCheckInterval,
        [`${svc}.healthcheck.timeout`]: TRAEFIK_DEFAULTS.healthCheckTimeout,
    };
    const resolver = traefikCertResolver(r.tls);
    if (resolver) labels[`${router}.tls.certresolver`] = resolver;
    if (r.stickyCookieName !== undefined) {
        labels[`${svc}.sticky.cookie`] = "true";
        labels[`${svc}.sticky.cookie.name`] = r.stickyCookieName;
        labels[`${svc}.sticky.cookie.secure`] = "true";
        labels[`${svc}.sticky.cookie.httponly`] = "true";
        labels[`${svc}.sticky.cookie.samesite`] = TRAEFIK_DEFAULTS.stickyCookieSameSite;
    }
    return labels;
}
