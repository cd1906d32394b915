/**
 * The Traefik options this program may emit, each as documented for the pinned release (v3 reference docs of
 * traefik/traefik): static configuration keys (the CLI reference lists every one, lower-cased) and Swarm provider
 * labels. test/traefikOptions.test.ts checks that every key of the rendered traefik.yml and every `traefik.*` label
 * of both stacks matches an entry, so an option the pinned release would silently ignore cannot ship.
 */

/** The pinned image (config/keys.ts default) and the oldest v3 minor that reads every option below. */
export const TRAEFIK_PIN = { image: "traefik:v3.6.24", minimumMinor: 3 } as const;

/** Where the entries were read (traefik/traefik repository). */
export const TRAEFIK_DOC_SOURCES = {
    staticCli: "docs/content/reference/static-configuration/cli-ref.md (generated from the v3 option structs)",
    swarmLabels: "docs/content/reference/routing-configuration/other-providers/swarm.md (commit 114a7a27d2c97ac36090fa5e912a1514e3753363)",
    retry: "docs/content/reference/routing-configuration/http/middlewares/retry.md",
    circuitBreaker: "docs/content/reference/routing-configuration/http/middlewares/circuitbreaker.md",
    since: "traefik.swarm.network and traefik.swarm.lbswarm: Swarm provider labels from v3.3 (before: traefik.docker.*); migration/v3.md",
} as const;

/** Static options (`--a.b.c` of the CLI reference, lower-cased; `<name>` is any user-chosen name). */
export const TRAEFIK_STATIC_OPTIONS: readonly string[] = [
    "global.checknewversion",
    "global.sendanonymoususage",
    "log.level",
    "log.format",
    "accesslog.format",
    "entrypoints.<name>.address",
    "entrypoints.<name>.http.redirections.entrypoint.to",
    "entrypoints.<name>.http.redirections.entrypoint.scheme",
    "entrypoints.<name>.http.redirections.entrypoint.permanent",
    "ping.entrypoint",
    "metrics.prometheus.entrypoint",
    "metrics.prometheus.addentrypointslabels",
    "metrics.prometheus.addrouterslabels",
    "metrics.prometheus.addserviceslabels",
    "api.dashboard",
    "api.insecure",
    "providers.swarm.endpoint",
    "providers.swarm.exposedbydefault",
    "providers.swarm.network",
    "providers.swarm.watch",
    "providers.swarm.refreshseconds",
    "providers.file.filename",
    "providers.file.watch",
    "serverstransport.forwardingtimeouts.dialtimeout",
    "certificatesresolvers.<name>.acme.email",
    "certificatesresolvers.<name>.acme.storage",
    "certificatesresolvers.<name>.acme.caserver",
    "certificatesresolvers.<name>.acme.dnschallenge.provider",
    "certificatesresolvers.<name>.acme.dnschallenge.resolvers",
];

/** Swarm provider labels (`<router>`, `<service>`, `<middleware>` are user-chosen names). */
export const TRAEFIK_LABELS: readonly string[] = [
    "traefik.enable",
    "traefik.swarm.network",
    "traefik.swarm.lbswarm",
    "traefik.http.routers.<router>.rule",
    "traefik.http.routers.<router>.entrypoints",
    "traefik.http.routers.<router>.middlewares",
    "traefik.http.routers.<router>.service",
    "traefik.http.routers.<router>.tls",
    "traefik.http.routers.<router>.tls.certresolver",
    "traefik.http.routers.<router>.priority",
    "traefik.http.services.<service>.loadbalancer.server.port",
    "traefik.http.services.<service>.loadbalancer.healthcheck.path",
    "traefik.http.services.<service>.loadbalancer.healthcheck.interval",
    "traefik.http.services.<service>.loadbalancer.healthcheck.timeout",
    "traefik.http.services.<service>.loadbalancer.sticky.cookie",
    "traefik.http.services.<service>.loadbalancer.sticky.cookie.name",
    "traefik.http.services.<service>.loadbalancer.sticky.cookie.secure",
    "traefik.http.services.<service>.loadbalancer.sticky.cookie.httponly",
    "traefik.http.services.<service>.loadbalancer.sticky.cookie.samesite",
    "traefik.http.middlewares.<middleware>.retry.attempts",
    "traefik.http.middlewares.<middleware>.retry.initialinterval",
    "traefik.http.middlewares.<middleware>.circuitbreaker.expression",
];

function matcher(entries: readonly string[]): (key: string) => boolean {
    const res = entries.map((e) => new RegExp(`^${e.split(".").map((p) => (/^<[a-z]+>$/.test(p) ? "[A-Za-z0-9_-]+" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("\\.")}$`));
    // Traefik reads option names case-insensitively.
    return (key) => res.some((r) => r.test(key.toLowerCase()));
}

/** Whether a static key (dotted path of traefik.yml) is documented. */
export const isDocumentedStaticOption = matcher(TRAEFIK_STATIC_OPTIONS);
/** Whether a `traefik.*` service label is documented. */
export const isDocumentedLabel = matcher(TRAEFIK_LABELS);

/** Every leaf key of a parsed static configuration, as dotted paths (lists are leaves). */
export function staticKeys(cfg: unknown, prefix = ""): string[] {
    if (cfg === null || typeof cfg !== "object" || Array.isArray(cfg)) return prefix ? [prefix] : [];
    return Object.entries(cfg as Record<string, unknown>).flatMap(([k, v]) => staticKeys(v, prefix ? `${prefix}.${k}` : k));
}
