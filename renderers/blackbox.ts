/**
 * blackbox_exporter's configuration for the edge probe: an HTTPS request to this region's edge address
 * (the Elastic IP that keepalived moves) with the public host name as SNI and Host header, so that the probe
 * checks the VIP itself, the certificate for the real name, and the /health route through Traefik.
 * Pure: no Pulumi, no I/O.
 */
import { stringify } from "yaml";

/** Input of {@link renderBlackboxYml}. */
export interface BlackboxInput {
    /** Public host name served by the edge (SNI and Host header). */
    readonly host: string;
    /** Module name Prometheus' edge_vip job asks for. */
    readonly module?: string;
    /** Seconds before a probe fails (1-60). */
    readonly timeoutSeconds?: number;
}

export const BLACKBOX_DEFAULTS = {
    module: "edge_https",
    timeoutSeconds: 5,
    port: 9115,
    configPath: "/etc/blackbox_exporter/config.yml",
} as const;

export function renderBlackboxYml(input: BlackboxInput): string {
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(input.host)) {
        throw new Error(`host: ${JSON.stringify(input.host)} is not a lower-case DNS name`);
    }
    const module = input.module ?? BLACKBOX_DEFAULTS.module;
    if (!/^[\w-]+$/.test(module)) throw new Error(`module: ${JSON.stringify(module)} is not a module name ([A-Za-z0-9_-])`);
    const timeout = input.timeoutSeconds ?? BLACKBOX_DEFAULTS.timeoutSeconds;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60) throw new Error(`timeoutSeconds: ${timeout} is not allowed (integer 1-60)`);
    const doc = {
        modules: {
            [module]: {
                prober: "http",
                timeout: `${timeout}s`,
                http: {
                    method: "GET",
                    preferred_ip_protocol: "ip4",
                    valid_status_codes: [200],
                    fail_if_not_ssl: true,
                    follow_redirects: false,
                    headers: { Host: input.host },
                    tls_config: { server_name: input.host, insecure_skip_verify: false },
                },
            },
        },
    };
    return `# Rendered by ops-center-ha renderers/blackbox.ts. Do not edit.\n` + stringify(doc, { lineWidth: 0 });
}
