/**
 * Pure config validation: raw key/value text in, a typed `HaConfig` out, or a `ConfigError` that lists
 * every problem (key, bad value, what is allowed). Nothing here touches Pulumi, so bad config is
 * rejected before a single resource is registered.
 */
import { parseCidr, overlaps } from "../lib/cidr";
import { fitProblemsOfConfig } from "../lib/swarmDemand";
import { INSTANCE_TYPES } from "../lib/instanceTypes";
import { CONFIG_KEYS, CONFIG_NAMESPACE, declaredDefault, keySpec } from "./keys";
import { standbyCredentialsProblems } from "./standbyCredentials";
import { parseRestore } from "./restore";
import { PATRONI_DEFAULTS } from "../renderers/patroniDcs";
import { Color, HaConfig, Role, TlsMode } from "./types";

/** Every problem found in a stack's config, one line each. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** Where raw values come from: `get(key)` returns the stack's text for `ops-center-ha:<key>`, or undefined. */
export interface RawConfig {
    readonly stack: string;
    /** The stack's `aws:region`. */
    readonly region: string | undefined;
    get(key: string): string | undefined;
    /** Every `ops-center-ha:` key the stack sets, to catch typos. */
    readonly keys?: readonly string[];
    /** Whether the stack holds `key` as a `secure:` value; when given, secret keys set in plain text are rejected. */
    isSecret?(key: string): boolean;
    /** "Now" in ms (a restore target must not be in the future); default the clock. */
    readonly now?: number;
}

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ZONE_ID = /^Z[A-Z0-9]{5,31}$/;
const STACK_FQN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Validates the raw config of one stack. Throws `ConfigError` listing every problem. */
export function validateConfig(raw: RawConfig): HaConfig {
    const problems: string[] = [];
    const k = (key: string) => `${CONFIG_NAMESPACE}:${key}`;
    const bad = (key: string, value: unknown, allowed: string) =>
        problems.push(`${k(key)} = ${JSON.stringify(String(value))}: ${allowed}`);

    const text = (key: string): string | undefined => {
        const spec = keySpec(key);
        const v = raw.get(key);
        // Optional keys and secrets declare `default: ""` in Pulumi.yaml (see declaredDefault): "" is "unset".
        if (v === "" && declaredDefault(spec) === "") {
            if (!spec.optional && !spec.secret) problems.push(`${k(key)} is required: ${spec.description}`);
            return undefined;
        }
        if (v === "") {
            problems.push(`${k(key)} = "": must not be empty (${spec.description})`);
            return undefined;
        }
        if (v === undefined) {
            if (spec.default !== undefined) return String(spec.default);
            if (!spec.optional) problems.push(`${k(key)} is required: ${spec.description}`);
            return undefined;
        }
        return v;
    };
    const str = (key: string): string => text(key) ?? "";
    const int = (key: string, min: number, max: number, what = `an integer from ${min} to ${max}`): number => {
        const v = text(key);
        if (v === undefined) return NaN;
        const n = Number(v);
        if (!/^-?\d+$/.test(v.trim()) || n < min || n > max) bad(key, v, `must be ${what}`);
        return n;
    };
    const bool = (key: string): boolean => {
        const v = text(key);
        if (v === undefined) return false;
        if (v !== "true" && v !== "false") bad(key, v, "must be true or false");
        return v === "true";
    };
    const oneOf = <T extends string>(key: string, allowed: readonly T[]): T => {
        const v = str(key);
        if (!(allowed as readonly string[]).includes(v)) bad(key, v, `must be one of ${allowed.join(", ")}`);
        return v as T;
    };
    const nonEmpty = (key: string, pattern: RegExp, what: string): string => {
        const v = text(key);
        if (v !== undefined && !pattern.test(v)) bad(key, v, `must be ${what}`);
        return v ?? "";
    };

    // Unknown keys are typos: reject them rather than silently ignore them.
    for (const key of unknownKeys(raw.keys ?? [])) {
        problems.push(`${k(key)} = ${JSON.stringify(raw.get(key) ?? "")}: not a key this program reads (see the config table in README.md)`);
    }

    if (raw.region === undefined || !AWS_REGION.test(raw.region)) {
        problems.push(`aws:region = ${JSON.stringify(raw.region)}: must be an AWS region such as us-east-1`);
    }
    const region = raw.region ?? "";

    const role = oneOf<Role>("role", ["primary", "standby"]);
    const primaryStack = text("primaryStack");
    if (role === "standby" && !primaryStack) problems.push(`${k("primaryStack")} is required when role is standby: the org/project/stack of the primary region`);
    else if (primaryStack && !STACK_FQN.test(primaryStack)) bad("primaryStack", primaryStack, "must be org/project/stack");
    // A primary that names a primaryStack is a promoted standby: it keeps what it was built with (README "Region promotion").
    const builtAs: Role = primaryStack ? "standby" : "primary";
    const peerRegion = text("peerRegion");
    if (peerRegion !== undefined) {
        if (!AWS_REGION.test(peerRegion)) bad("peerRegion", peerRegion, "must be an AWS region such as us-west-2");
        else if (peerRegion === region) bad("peerRegion", peerRegion, `must differ from this stack's region (${region})`);
    }
    if (role === "standby" && peerRegion === undefined) problems.push(`${k("peerRegion")} is required when role is standby: the primary's AWS region`);

    // Network
    const cidr = (key: string, minPrefix: number, maxPrefix: number) => {
        const v = text(key);
        if (v === undefined) return undefined;
        const c = parseCidr(v);
        if (!c) bad(key, v, "must be an IPv4 CIDR a.b.c.d/n with no host bits set");
        else if (c.prefix < minPrefix || c.prefix > maxPrefix) bad(key, v, `must have a prefix from /${minPrefix} to /${maxPrefix}`);
        return c ? v : undefined;
    };
    const vpcCidr = cidr("vpcCidr", 16, 24);
    const peerVpcCidr = cidr("peerVpcCidr", 16, 24);
    const adminCidr = cidr("adminCidr", 8, 32);
    // A prefix of at least /8 already keeps SSH from being open to the whole internet (0.0.0.0/0).
    if (vpcCidr && peerVpcCidr && overlaps(parseCidr(vpcCidr)!, parseCidr(peerVpcCidr)!)) {
        bad("peerVpcCidr", peerVpcCidr, `must not overlap vpcCidr ${vpcCidr}: VPC peering needs distinct address ranges`);
    }
    if (role === "standby" && !raw.get("peerVpcCidr")) problems.push(`${k("peerVpcCidr")} is required when role is standby: the primary's VPC CIDR, for the peering routes`);
    const azCount = int("availabilityZoneCount", 3, 6, "an integer from 3 to 6 (3 Swarm managers need 3 zones)");

    // DNS
    const domain = nonEmpty("domain", HOSTNAME, "a lower-case DNS name such as ops.example.com");
    const hostedZoneId = nonEmpty("hostedZoneId", ZONE_ID, "a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ");
    const ttl = int("dnsTtl", 30, 300);
    const healthCheckInterval = int("healthCheckInterval", 10, 30, "10 or 30 (the only intervals Route53 offers)");
    if (healthCheckInterval !== 10 && healthCheckInterval !== 30 && !Number.isNaN(healthCheckInterval)) {
        bad("healthCheckInterval", healthCheckInterval, "must be 10 or 30 (the only intervals Route53 offers)");
    }
    const healthCheckFailureThreshold = int("healthCheckFailureThreshold", 1, 10);
    const alarmEmail = text("alarmEmail");
    if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) bad("alarmEmail", alarmEmail, "must be an e-mail address");
    const cloudflareEnabled = bool("cloudflareEnabled");
    const cloudflareZoneId = text("cloudflareZoneId");
    const cloudflareHostname = text("cloudflareHostname") ?? (domain ? `www.${domain}` : "");
    if (cloudflareEnabled) {
        if (!cloudflareZoneId) problems.push(`${k("cloudflareZoneId")} is required when cloudflareEnabled is true`);
        else if (!/^[0-9a-f]{32}$/.test(cloudflareZoneId)) bad("cloudflareZoneId", cloudflareZoneId, "must be a 32-character hex Cloudflare zone id");
        if (!HOSTNAME.test(cloudflareHostname)) bad("cloudflareHostname", cloudflareHostname, "must be a lower-case DNS name");
        if (cloudflareHostname === domain) bad("cloudflareHostname", cloudflareHostname, "must differ from domain (the Route53 failover name it points at)");
    }

    // Substrate
    const existingSwarmHost = text("existingSwarmHost");
    if (existingSwarmHost !== undefined && !/^(ssh:\/\/[^@\s]+@[^\s/]+(:\d+)?|unix:\/\/\/\S+|tcp:\/\/\S+:\d+)$/.test(existingSwarmHost)) {
        bad("existingSwarmHost", existingSwarmHost, "must be ssh://user@host[:port], unix:///path/to/docker.sock or tcp://host:port");
    }
    const dataHostsText = text("existingSwarmDataHosts");
    const existingSwarmDataHosts = dataHostsText?.split(",").map((h) => h.trim());
    if (existingSwarmHost !== undefined) {
        if (role === "standby") {
            bad("existingSwarmHost", existingSwarmHost, "is only supported in a primary region: the standby's peering, replication and failover record need the AWS network and hosts this program creates");
        }
        if (!existingSwarmDataHosts) {
            problems.push(`${k("existingSwarmDataHosts")} is required with existingSwarmHost: the hostnames of at least 3 nodes labelled role=data`);
        } else if (existingSwarmDataHosts.length < 3 || existingSwarmDataHosts.some((h) => !/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(h)) || new Set(existingSwarmDataHosts).size !== existingSwarmDataHosts.length) {
            bad("existingSwarmDataHosts", dataHostsText, "must be at least 3 distinct hostnames, comma-separated");
        }
    } else if (existingSwarmDataHosts) {
        bad("existingSwarmDataHosts", dataHostsText, "is only used with existingSwarmHost");
    }
    // Zones: chosen once and kept, never recomputed from what AWS reports available (an impaired zone would shift subnets).
    const zonesText = text("availabilityZones");
    let availabilityZones: string[] | undefined;
    if (zonesText !== undefined) {
        const zones = zonesText.split(",").map((z) => z.trim());
        const foreign = zones.find((z) => !new RegExp(`^${region.replace(/-/g, "\\-")}[a-z]$`).test(z));
        // With existingSwarmHost there are no subnets: the stack file's zones are ignored (the stack may switch back).
        if (existingSwarmHost !== undefined) availabilityZones = undefined;
        else if (foreign !== undefined) bad("availabilityZones", zonesText, `must be zones of ${region}, comma-separated (e.g. ${region}a,${region}b,${region}c): ${JSON.stringify(foreign)} is not a zone of ${region}`);
        else if (new Set(zones).size !== zones.length) bad("availabilityZones", zonesText, "must not list a zone twice");
        else if (zones.length !== azCount) bad("availabilityZones", zonesText, `must list exactly availabilityZoneCount (${azCount}) zones`);
        else availabilityZones = zones;
    } else if (existingSwarmHost === undefined) {
        problems.push(
            `${k("availabilityZones")} is required with the EC2 hosts this program creates: the ${azCount} zones of this stack, e.g. ` +
                `pulumi config set availabilityZones ${region}a,${region}b,${region}c (a stack deployed before this key: the zones of its subnets, in the order of their names ` +
                `<name>-net-private-0, -1, -2: aws ec2 describe-subnets --filters Name=tag:tier,Values=private --query 'Subnets[].[Tags[?Key==\`Name\`]|[0].Value,AvailabilityZone]' --output text)`,
        );
    }
    const amiSsmParameter = nonEmpty("amiSsmParameter", /^\/\S+$/, "an SSM parameter path starting with /");
    const sshUser = nonEmpty("sshUser", /^[a-z_][a-z0-9_-]{0,31}$/, "a Unix user name");
    const sshKeyName = text("sshKeyName");
    const rootVolumeGb = int("rootVolumeGb", 20, 2000);
    // gp3's range is 1-16384 GiB; below 20 there is no room for Postgres, etcd and Redis together.
    const dataVolumeGb = int("dataVolumeGb", 20, 16384);
    const minNodes = builtAs === "primary" ? { edge: 2, app: 3, data: 3 } : { edge: 1, app: 3, data: 3 };
    const pool = (role_: "edge" | "app" | "data") => {
        const count = int(`${role_}Nodes`, minNodes[role_], 50, `an integer from ${minNodes[role_]} to 50 in a region built as ${builtAs}`);
        const instanceType = str(`${role_}InstanceType`);
        if (instanceType !== "" && !Object.prototype.hasOwnProperty.call(INSTANCE_TYPES, instanceType)) {
            bad(`${role_}InstanceType`, instanceType, `must be an EC2 instance type whose size the fit check knows: one of the types in lib/instanceTypes.ts (${Object.keys(INSTANCE_TYPES).join(", ")})`);
        }
        return { count, instanceType };
    };
    const pools = { edge: pool("edge"), app: pool("app"), data: pool("data") };
    const rollHost = text("rollHost");
    if (rollHost !== undefined) {
        const m = /^(edge|app|data)-(\d+)$/.exec(rollHost);
        const hosts = (["edge", "app", "data"] as const).map((r) => `${r}-0..${r}-${pools[r].count - 1}`).join(", ");
        if (existingSwarmHost !== undefined) bad("rollHost", rollHost, "is only used with the EC2 hosts this program creates, not with existingSwarmHost");
        else if (!m || Number(m[2]) >= pools[m[1] as "edge" | "app" | "data"].count) bad("rollHost", rollHost, `must be one host of this stack: ${hosts}`);
    }

    const hostAmisText = text("hostAmis");
    const hostAmis: Record<string, string> = {};
    if (hostAmisText !== undefined) {
        const hosts = (["edge", "app", "data"] as const).map((r) => `${r}-0..${r}-${pools[r].count - 1}`).join(", ");
        for (const pair of hostAmisText.split(",").map((p) => p.trim())) {
            const m = /^((edge|app|data)-(\d+))=(ami-[0-9a-f]{8,17})$/.exec(pair);
            if (existingSwarmHost !== undefined) bad("hostAmis", hostAmisText, "is only used with the EC2 hosts this program creates, not with existingSwarmHost");
            else if (!m) bad("hostAmis", hostAmisText, `must be comma-separated <host>=<ami-id> pairs such as data-2=ami-0123456789abcdef0 (${JSON.stringify(pair)} is not)`);
            else if (Number(m[3]) >= pools[m[2] as "edge" | "app" | "data"].count) bad("hostAmis", hostAmisText, `names ${m[1]}, not a host of this stack: ${hosts}`);
            else if (m[1] in hostAmis) bad("hostAmis", hostAmisText, `lists ${m[1]} twice`);
            else hostAmis[m[1]] = m[4];
            if (existingSwarmHost !== undefined || !m) break;
        }
    }

    // Tiers
    const minReplicas = builtAs === "primary" ? 3 : 1;
    const replicas = (key: string) =>
        int(key, minReplicas, 50, `an integer from ${minReplicas} to 50 in a region built as ${builtAs}${builtAs === "primary" ? " (the design's x3)" : " (a promoted standby keeps its sizes)"}`);
    const frontendReplicas = replicas("frontendReplicas");
    const backendReplicas = replicas("backendReplicas");
    const activeColor = oneOf<Color>("activeColor", ["blue", "green"]);
    const image = (key: string, fallback?: string) => {
        const v = text(key) ?? fallback;
        if (v === undefined) return "";
        if (!/^[a-z0-9][a-z0-9._\/-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[0-9a-f]{64})?$/.test(v)) bad(key, v, "must be an image reference");
        else if (!/[:@]/.test(v.split("/").pop()!) || /:latest$/.test(v)) bad(key, v, "must be pinned to a version tag or digest, never latest or untagged");
        return v;
    };
    const frontendImage = image("frontendImage");
    const backendImage = image("backendImage");
    const inactiveImage = image("backendImageInactive", backendImage);

    const redisReplicas = int("redisReplicas", 1, 10);
    const sentinels = int("redisSentinels", 3, 9, "an odd integer from 3 to 9");
    if (sentinels % 2 === 0) bad("redisSentinels", sentinels, "must be odd, so that a majority exists after a partition");
    const quorum = int("redisQuorum", 1, 9);
    if (!Number.isNaN(sentinels) && !Number.isNaN(quorum) && (quorum <= sentinels / 2 || quorum > sentinels)) {
        bad("redisQuorum", quorum, `must be a majority of the ${sentinels} sentinels: from ${Math.floor(sentinels / 2) + 1} to ${sentinels}`);
    }
    const downAfterMs = int("redisDownAfterMs", 1000, 60000);

    // A region built as primary runs 3 members: after the leader is lost, the new leader still has a synchronous
    // standby, so a second failure promotes a member holding every acknowledged commit (bench postgres_double_failure).
    const minMembers = builtAs === "primary" ? 3 : 2;
    const members = int("postgresMembers", minMembers, 5, `an integer from ${minMembers} to 5 in a region built as ${builtAs}${builtAs === "primary" ? " (leader, synchronous standby and a third member that becomes the new leader's synchronous standby)" : ""}`);
    // Member i is pinned to data host i: a member more than the data hosts would share a host (and zone) with another.
    const dataHostCount = existingSwarmHost !== undefined ? existingSwarmDataHosts?.length : pools.data.count;
    if (members > 0 && dataHostCount !== undefined && dataHostCount >= 3 && members > dataHostCount) {
        bad("postgresMembers", members, `must be at most one per data host: ${dataHostCount} data hosts (${existingSwarmHost !== undefined ? "existingSwarmDataHosts" : "dataNodes"})`);
    }
    // Which member the roll stops last: the live leader, so that a roll hands the leader key over once.
    const rollLast = text("postgresRollLast");
    if (rollLast !== undefined && !Number.isNaN(members)) {
        const names = Array.from({ length: members }, (_, i) => `pg-${i + 1}`);
        if (!names.includes(rollLast)) bad("postgresRollLast", rollLast, `must be one Patroni member of this region: ${names.join(", ")} (the service name, as npm run postgres-leader prints it)`);
    }
    const etcdMembers = int("etcdMembers", 3, 7, "an odd integer from 3 to 7");
    if (etcdMembers % 2 === 0) bad("etcdMembers", etcdMembers, "must be odd, so that etcd keeps a majority");
    const ttl_ = int("patroniTtl", 20, 300, "an integer from 20 to 300 (Patroni 4 raises anything below 20 to 20)");
    const loopWait = int("patroniLoopWait", 1, 60);
    const retryTimeout = int("patroniRetryTimeout", 1, 60);
    if (loopWait + 2 * retryTimeout > ttl_) {
        bad("patroniRetryTimeout", retryTimeout, `must satisfy loop_wait + 2*retry_timeout <= ttl (${loopWait} + 2*${retryTimeout} > ${ttl_}); Patroni silently shrinks them otherwise`);
    }
    const archiveTimeout = int("archiveTimeout", 30, 300, "an integer from 30 to 300 (the RPO target is under 5 minutes)");
    const backupRetentionDays = int("backupRetentionDays", 7, 3650);

    const keepalivedPriority = int("keepalivedPriority", 51, 254, "an integer from 51 to 254 (the second edge host gets 50 less)");
    const routerId = int("keepalivedRouterId", 1, 255);
    const tlsMode = oneOf<TlsMode>("tlsMode", ["dns01", "certificate"]);
    const acmeEmail = str("acmeEmail");
    if (tlsMode === "dns01" && !EMAIL.test(acmeEmail)) bad("acmeEmail", acmeEmail, "must be an e-mail address for the ACME account");
    if (tlsMode === "certificate") {
        for (const key of ["tlsCertificate", "tlsPrivateKey"]) {
            if (!raw.get(key)) problems.push(`${k(key)} is required (as secure config) when tlsMode is certificate`);
        }
    }

    const creds = raw.get("standbyCredentials");
    if (builtAs === "standby" && !creds) {
        problems.push(`${k("standbyCredentials")} is required when primaryStack is set: copy the primary's passwords once with \`npm run promote -- copy-credentials ${raw.stack}\``);
    } else if (creds) {
        // Also kept by a promoted standby that later drops primaryStack (README "Fail-back"): its passwords never rotate.
        for (const p of standbyCredentialsProblems(creds)) problems.push(`${k("standbyCredentials")} ${p}`);
    }

    const restoreText = text("restore");
    const restore = restoreText === undefined ? undefined : parseRestore(k("restore"), restoreText, { region, role, defaultScope: PATRONI_DEFAULTS.scope, now: raw.now }, problems);

    for (const spec of CONFIG_KEYS.filter((c) => c.secret)) {
        const set = raw.get(spec.key);
        if (!set && !spec.optional) {
            problems.push(`${k(spec.key)} is required: set it with \`pulumi config set --secret ${spec.key} <value> --stack ${raw.stack}\` (${spec.description})`);
        } else if (set && raw.isSecret && !raw.isSecret(spec.key)) {
            // Never quote the value: it is a secret stored in plain text.
            problems.push(`${k(spec.key)} is set in plain text: store it encrypted with \`pulumi config set --secret ${spec.key} <value> --stack ${raw.stack}\``);
        }
    }

    const images = {
        spilo: image("spiloImage"),
        etcd: image("etcdImage"),
        haproxy: image("haproxyImage"),
        redis: image("redisImage"),
        redisExporter: image("redisExporterImage"),
        postgresExporter: image("postgresExporterImage"),
        blackboxExporter: image("blackboxExporterImage"),
        nodeExporter: image("nodeExporterImage"),
        awsCli: image("awsCliImage"),
        traefik: image("traefikImage"),
        socketProxy: image("socketProxyImage"),
        prometheus: image("prometheusImage"),
        alertmanager: image("alertmanagerImage"),
    };
    if (images.traefik && !/:v?3\./.test(images.traefik)) bad("traefikImage", images.traefik, "must be a Traefik v3 tag (the static configuration uses v3 option names)");
    else if (images.traefik && /:v?3\.[0-2]\./.test(images.traefik)) {
        bad("traefikImage", images.traefik, "must be Traefik v3.3 or later: earlier v3 releases silently ignore the traefik.swarm.network and traefik.swarm.lbswarm labels the services carry");
    }

    if (problems.length > 0) throw new ConfigError(problems);
    const cfg: HaConfig = {
        stack: raw.stack,
        region,
        role,
        primaryStack,
        builtAs,
        peerRegion,
        network: { vpcCidr: vpcCidr!, peerVpcCidr, adminCidr: adminCidr!, azCount, availabilityZones },
        dns: {
            domain,
            hostedZoneId,
            ttl,
            healthCheckInterval,
            healthCheckFailureThreshold,
            alarmEmail,
            cloudflare: cloudflareEnabled ? { zoneId: cloudflareZoneId!, hostname: cloudflareHostname } : undefined,
        },
        hosts: { existingSwarmHost, existingSwarmDataHosts, amiSsmParameter, sshUser, sshKeyName, rootVolumeGb, dataVolumeGb, hostAmis, pools, rollHost },
        frontend: { replicas: frontendReplicas, image: frontendImage },
        backend: { replicas: backendReplicas, activeColor, image: backendImage, inactiveImage },
        postgres: { members, rollLast, etcdMembers, ttl: ttl_, loopWait, retryTimeout, archiveTimeout, backupRetentionDays },
        redis: { replicas: redisReplicas, sentinels, quorum, downAfterMs },
        edge: { keepalivedPriority, routerId, tlsMode, acmeEmail },
        restore,
        images,
    };
    // Only a sound config is sized: do its tasks start, schedule and roll on its hosts (lib/fit.ts)?
    const misfits = fitProblemsOfConfig(cfg);
    if (misfits.length > 0) throw new ConfigError(misfits);
    return cfg;
}

/** Keys a stack file sets that this program does not read (typos, stale keys). */
export function unknownKeys(keys: readonly string[]): string[] {
    const known = new Set(CONFIG_KEYS.map((s) => s.key));
    return keys.filter((key) => !known.has(key));
}
