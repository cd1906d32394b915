import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Role } from "../config/types";
import { alertmanagerVersionFromImage, renderAlertmanagerYml } from "../renderers/alertmanager";
import { renderAlertRules } from "../renderers/alerts";
import { BLACKBOX_DEFAULTS, renderBlackboxYml } from "../renderers/blackbox";
import { MONITORING_DEFAULTS, renderPrometheusYml } from "../renderers/prometheus";
import { imageFacts } from "../lib/images";
import { swarmResources, Tier } from "../lib/sizing";
import { healthcheck, placeOn, statefulUpdate, statelessRollback, statelessUpdate } from "../lib/swarmSpec";
import { mountConfig, mountSecret, swarmConfig, swarmSecret, SwarmContext, attachNetwork } from "./swarmKit";

/** Arguments of {@link Monitoring}. */
export interface MonitoringArgs {
    /** The Swarm, its provider and overlay networks. */
    readonly swarm: SwarmContext;
    readonly role: Role;
    readonly region: string;
    /** Public host name (the edge probe's SNI and Host header). */
    readonly host: string;
    /** This region's edge address (the Elastic IP); the probe goes through it. */
    readonly edgeAddress: pulumi.Input<string>;
    /** Swarm service names to scrape, by job. */
    readonly services: {
        readonly traefik: string[];
        readonly backend: string[];
        readonly patroni: string[];
        readonly etcd: string[];
        readonly redis: string[];
        readonly sentinels: string[];
    };
    /** The Postgres leader endpoint (postgres_exporter reads pg_stat_archiver there). */
    readonly postgres: { readonly host: string; readonly port: number; readonly user: string; readonly passwordSecret: docker.Secret };
    /** Alertmanager's webhook receiver URL, secret. */
    readonly webhookUrl: pulumi.Output<string>;
    /**
     * The app hosts whose local volumes hold Prometheus's TSDB and Alertmanager's silences: each is pinned there, so
     * a reschedule never starts it empty on another host. Unknown on an existing Swarm: then the node labelled
     * `monitoring=true` holds them.
     */
    readonly pinnedHosts: { readonly prometheus?: string; readonly alertmanager?: string };
    /** Images, pinned. */
    readonly images: { readonly prometheus: string; readonly alertmanager: string; readonly postgresExporter: pulumi.Input<string>; readonly blackboxExporter: pulumi.Input<string>; readonly nodeExporter: pulumi.Input<string> };
}

/**
 * Prometheus, Alertmanager and the two exporters the alert rules need (postgres_exporter for WAL archiving,
 * blackbox_exporter for the edge VIP; redis_exporter belongs to the Redis tier). Every file is rendered;
 * the webhook URL reaches Alertmanager as a Swarm secret file (`url_file`).
 */
export class Monitoring extends pulumi.ComponentResource {
    readonly prometheusServiceName: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Monitoring", name, {}, opts);
        const ctx = args.swarm;
        const p = ctx.prefix;
        const target = (services: string[], port: number) => ({ services, port });
        const svcOpts = { parent: this, provider: ctx.provider };
        const nets = [attachNetwork(ctx.networks.edge), attachNetwork(ctx.networks.app), attachNetwork(ctx.networks.data)];
        const pinned = (hostname?: string) => (hostname ? placeOn("app", { hostname }) : [...placeOn("app"), "node.labels.monitoring==true"]);

        const prometheusYml = pulumi.output(args.edgeAddress).apply((ip) =>
            renderPrometheusYml({
                region: args.region,
                role: args.role,
                alertmanager: target([`${p}-alertmanager`], MONITORING_DEFAULTS.alertmanager.port),
                traefik: target(args.services.traefik, MONITORING_DEFAULTS.traefik.port),
                backend: target(args.services.backend, MONITORING_DEFAULTS.backend.port),
                patroni: target(args.services.patroni, MONITORING_DEFAULTS.patroni.port),
                etcd: target(args.services.etcd, MONITORING_DEFAULTS.etcd.port),
                postgresExporter: target([`${p}-postgres-exporter`], MONITORING_DEFAULTS.postgresExporter.port),
                nodeExporter: target([`${p}-node-exporter`], MONITORING_DEFAULTS.nodeExporter.port),
                redis: target(args.services.redis, MONITORING_DEFAULTS.redis.port),
                sentinel: args.services.sentinels.length > 0 ? target(args.services.sentinels, MONITORING_DEFAULTS.sentinel.port) : undefined,
                redisExporterAddress: `${p}-redis-exporter:9121`,
                blackboxExporterAddress: `${p}-blackbox-exporter:${BLACKBOX_DEFAULTS.port}`,
                blackboxModule: BLACKBOX_DEFAULTS.module,
                edgeProbeUrls: [`https://${ip}/health`],
            }),
        );
        const promCfg = swarmConfig(this, ctx, "prometheus", prometheusYml);
        const rulesCfg = swarmConfig(this, ctx, "alert-rules", renderAlertRules({ region: args.region, role: args.role, postgresMembers: args.services.patroni.length }));
        const prometheus = new docker.Service(
            `${name}-prometheus`,
            {
                name: `${p}-prometheus`,
                mode: { replicated: { replicas: 1 } },
                taskSpec: {
                    containerSpec: {
                        image: args.images.prometheus,
                        args: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--storage.tsdb.retention.time=15d", "--web.enable-lifecycle"],
                        configs: [mountConfig(promCfg, "/etc/prometheus/prometheus.yml"), mountConfig(rulesCfg, MONITORING_DEFAULTS.rulesPath)],
                        mounts: [{ type: "volume", source: `${p}-prometheus-data`, target: "/prometheus" }],
                        healthcheck: { tests: ["CMD", "wget", "-qO-", "http://localhost:9090/-/healthy"], interval: "15s", timeout: "3s", retries: 3, startPeriod: "30s" },
                    },
                    // Its TSDB lives on a local volume: pinned to the host that holds it.
                    placement: { constraints: pinned(args.pinnedHosts.prometheus), maxReplicas: 1 },
                    resources: swarmResources("prometheus"),
                    networksAdvanceds: nets,
                    restartPolicy: { condition: "any", delay: "5s" },
                },
                updateConfig: { parallelism: 1, order: "stop-first", failureAction: "rollback", monitor: "30s" },
            },
            svcOpts,
        );
        this.prometheusServiceName = prometheus.name;

        const urlSecret = "alert_webhook_url";
        const amCfg = swarmConfig(this, ctx, "alertmanager", renderAlertmanagerYml({ version: alertmanagerVersionFromImage(args.images.alertmanager), webhook: { urlSecret } }));
        const webhook = swarmSecret(this, ctx, "alert-webhook-url", args.webhookUrl);
        // Alertmanager and the exporters: one task each on an app host, on the app network.
        // Each is stateless (start-first with rollback) unless pinned to a host by a local volume (stop-first).
        const appService = (svc: string, containerSpec: docker.types.input.ServiceTaskSpecContainerSpec, tier: Tier, pinnedTo?: string[]) =>
            new docker.Service(
                `${name}-${svc}`,
                {
                    name: `${p}-${svc}`,
                    mode: { replicated: { replicas: 1 } },
                    taskSpec: {
                        containerSpec,
                        // A local volume ties a stateful task to its host.
                        placement: { constraints: pinnedTo ?? placeOn("app"), maxReplicas: pinnedTo ? 1 : undefined },
                        resources: swarmResources(tier),
                        networksAdvanceds: [attachNetwork(ctx.networks.app)],
                        restartPolicy: { condition: "any", delay: "5s" },
                    },
                    updateConfig: pinnedTo ? statefulUpdate() : statelessUpdate(1, "5s", "20s"),
                    rollbackConfig: pinnedTo ? undefined : statelessRollback(1, "20s"),
                },
                svcOpts,
            );
        // busybox wget: the Prometheus-project images are built on quay.io/prometheus/busybox (lib/images.ts).
        const wgetCheck = (url: string) => healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", url], { interval: 15, timeout: 3, retries: 3, startPeriod: 15 });
        appService(
            "alertmanager",
            {
                image: args.images.alertmanager,
                args: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
                configs: [mountConfig(amCfg, "/etc/alertmanager/alertmanager.yml")],
                // The image runs as nobody (65534).
                secrets: [mountSecret(webhook, urlSecret, 0o400, imageFacts("alertmanagerImage").user)],
                mounts: [{ type: "volume", source: `${p}-alertmanager-data`, target: "/alertmanager" }],
                healthcheck: wgetCheck("http://127.0.0.1:9093/-/healthy"),
            },
            "alertmanager",
            pinned(args.pinnedHosts.alertmanager),
        );
        // postgres_exporter reads the password from a file natively (DATA_SOURCE_PASS_FILE).
        appService("postgres-exporter", {
            image: args.images.postgresExporter,
            env: {
                DATA_SOURCE_URI: `${args.postgres.host}:${args.postgres.port}/postgres?sslmode=require`,
                DATA_SOURCE_USER: args.postgres.user,
                DATA_SOURCE_PASS_FILE: "/run/secrets/pg_password",
            },
            secrets: [mountSecret(args.postgres.passwordSecret, "pg_password", 0o400, imageFacts("postgresExporterImage").user)],
            // The landing page: answers without querying Postgres (a Postgres outage is an alert, not a restart).
            healthcheck: wgetCheck("http://127.0.0.1:9187/"),
        }, "exporter");
        const bbCfg = swarmConfig(this, ctx, "blackbox", renderBlackboxYml({ host: args.host }));
        appService("blackbox-exporter", {
            image: args.images.blackboxExporter,
            args: [`--config.file=${BLACKBOX_DEFAULTS.configPath}`],
            configs: [mountConfig(bbCfg, BLACKBOX_DEFAULTS.configPath)],
            healthcheck: wgetCheck(`http://127.0.0.1:${BLACKBOX_DEFAULTS.port}/-/healthy`),
        }, "exporter");
        // node_exporter on every node (global, no constraint: managers and edge hosts too), for the disk and memory
        // alerts. A Swarm task gets neither --net=host nor --pid=host (upstream's README); it reads the host's file
        // systems through / bound read-only at /host (--path.rootfs, rslave so that volumes mounted later appear)
        // and memory from /proc/meminfo, which is not namespaced. The container's hostname is the Swarm node's,
        // so node_uname_info names the host in the alerts.
        new docker.Service(
            `${name}-node-exporter`,
            {
                name: `${p}-node-exporter`,
                mode: { global: true },
                taskSpec: {
                    containerSpec: {
                        image: args.images.nodeExporter,
                        args: ["--path.rootfs=/host", `--web.listen-address=:${MONITORING_DEFAULTS.nodeExporter.port}`],
                        hostname: "{{.Node.Hostname}}",
                        mounts: [{ type: "bind", source: "/", target: "/host", readOnly: true, bindOptions: { propagation: "rslave" } }],
                        healthcheck: wgetCheck(`http://127.0.0.1:${MONITORING_DEFAULTS.nodeExporter.port}/`),
                    },
                    resources: swarmResources("exporter"),
                    networksAdvanceds: [attachNetwork(ctx.networks.app)],
                    restartPolicy: { condition: "any", delay: "5s" },
                },
                updateConfig: statelessUpdate(1, "5s", "20s"),
                rollbackConfig: statelessRollback(1, "20s"),
            },
            svcOpts,
        );
        this.registerOutputs({ prometheusServiceName: this.prometheusServiceName });
    }
}
