/**
 * keepalived for the edge pair: `keepalived.conf` per edge host, the secret include file, and the
 * `notify_master.sh` that moves the Elastic IP.
 *
 * keepalived runs on the edge hosts themselves (systemd), not as a Swarm service. In an AWS VPC VRRP
 * multicast does not work, so the peers talk unicast (`unicast_src_ip` + `unicast_peer`), and the VIP is an
 * Elastic IP that `notify_master.sh` re-associates (`ec2 associate-address --allow-reassociation`) when this host
 * becomes master. The `virtual_ipaddress` block is therefore empty in AWS; it is only filled in the namespace
 * chaos test (and on-premises LANs), where keepalived itself adds the address.
 *
 * The VRRP `auth_pass` is a secret: the rendered keepalived.conf only references `${AUTH_PASS}`, a keepalived
 * parameter defined in a root-only include file (`renderKeepalivedAuth`) written at boot. `includea` makes
 * keepalived refuse to start when that file is missing, so it never runs with an empty or literal password.
 */
import { isIPv4 } from "node:net";
import { TRAEFIK_DEFAULTS } from "./traefik";

export const KEEPALIVED_DEFAULTS = {
    /** Installed by the distribution package on the edge hosts. */
    configPath: "/etc/keepalived/keepalived.conf",
    /** Root-only (0600) file with `$AUTH_PASS=...`, written at boot; the only place the secret lives on disk. */
    authFile: "/etc/keepalived/auth.conf",
    notifyMasterPath: "/etc/keepalived/notify_master.sh",
    /** Unprivileged user that runs the track and notify scripts (created by cloud-init). */
    scriptUser: "keepalived_script",
    instanceName: "VI_EDGE",
    virtualRouterId: 51,
    /** Priorities of the two edge hosts (first = preferred). */
    priorities: [150, 100] as readonly number[],
    advertInt: 1,
    /** Both start BACKUP and never take the VIP back from a healthy master (no EIP flapping). */
    nopreempt: true,
    curlPath: "/usr/bin/curl",
    /** Traefik's ping on the dedicated internal entrypoint. */
    pingUrl: `http://127.0.0.1:${TRAEFIK_DEFAULTS.pingPort}/ping`,
    checkInterval: 1,
    checkFall: 2,
    checkRise: 2,
    /** Parameter name defined in the auth include file. */
    authParam: "AUTH_PASS",
    awsCli: "/usr/local/bin/aws",
    imdsEndpoint: "http://169.254.169.254",
    notifyMaxAttempts: 5,
    notifyRetryDelaySeconds: 2,
    logTag: "keepalived-notify",
} as const;

/** One edge host in the VRRP pair. */
export interface KeepalivedNode {
    /** Host name, used as keepalived's router_id. */
    readonly name: string;
    /** Private IPv4 the VRRP adverts are sent from and to (unicast). */
    readonly ip: string;
    /** VRRP priority 1-254, distinct across nodes. */
    readonly priority: number;
}

/** Input of {@link renderKeepalivedConf}. */
export interface KeepalivedInput {
    /** All nodes of the pair (2-8); unicast peers are every node except `self`. */
    readonly nodes: readonly KeepalivedNode[];
    /** Name of the node this file is rendered for. */
    readonly self: string;
    /** Network interface carrying the VRRP traffic (e.g. ens5 on Nitro instances). */
    readonly interface: string;
    /** VRRP virtual_router_id 1-255, the same on every node. */
    readonly virtualRouterId?: number;
    /** Advertisement interval in seconds, 1-255; failover takes about 3 x this. */
    readonly advertInt?: number;
    /** Stay BACKUP while a healthy master exists, even with a higher priority; default true. */
    readonly nopreempt?: boolean;
    /** User running track/notify scripts; default keepalived_script. */
    readonly scriptUser?: string;
    /** Path of the root-only auth include file; default /etc/keepalived/auth.conf. */
    readonly authFile?: string;
    /** Path of the rendered notify_master.sh on the host. */
    readonly notifyMasterPath?: string;
    /** Path of the rendered eip_recheck.sh (keepalived's generic notify: records the state). */
    readonly eipRecheckPath?: string;
    /** URL of Traefik's ping checked by chk_traefik; default http://127.0.0.1:8082/ping. */
    readonly pingUrl?: string;
    /** Absolute path of curl on the host. */
    readonly curlPath?: string;
    /** Priority change while the check fails; omitted = the instance goes to FAULT (recommended). */
    readonly checkWeight?: number;
    /** Addresses keepalived adds itself ("a.b.c.d/nn"); empty in AWS, where the notify script moves the EIP. */
    readonly virtualIpAddresses?: readonly string[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const IFACE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const PATH_RE = /^\/[A-Za-z0-9_./-]+$/;
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const URL_RE = /^http:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9_./-]*)?$/;

function intIn(field: string, v: number, lo: number, hi: number): void {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${field}: ${v} is not allowed (integer ${lo}-${hi})`);
}

function match(field: string, v: string, re: RegExp, what: string): void {
    if (!re.test(v)) throw new Error(`${field}: '${v}' is not allowed (${what})`);
}

function ipv4(field: string, v: string): void {
    if (!isIPv4(v)) throw new Error(`${field}: '${v}' is not allowed (an IPv4 address)`);
}

/** Validates a VRRP PASS password: keepalived uses only 8 characters, so exactly 8 of [A-Za-z0-9]. */
export function validateAuthPass(pass: string): void {
    if (!/^[A-Za-z0-9]{8}$/.test(pass)) {
        throw new Error(`authPass: a value of length ${pass.length} is not allowed (exactly 8 characters [A-Za-z0-9]; keepalived ignores the rest)`);
    }
}

/** keepalived.conf for one edge host. Contains no secret: auth_pass is `${AUTH_PASS}` from the include file. */
export function renderKeepalivedConf(input: KeepalivedInput): string {
    const d = KEEPALIVED_DEFAULTS;
    if (input.nodes.length < 2 || input.nodes.length > 8) {
        throw new Error(`nodes: ${input.nodes.length} nodes is not allowed (2-8; a single edge host needs no VRRP)`);
    }
    input.nodes.forEach((n, i) => {
        match(`nodes[${i}].name`, n.name, NAME_RE, "letters, digits, _ . -");
        ipv4(`nodes[${i}].ip`, n.ip);
        intIn(`nodes[${i}].priority`, n.priority, 1, 254);
    });
    const dup = (xs: readonly (string | number)[]) => xs.find((x, i) => xs.indexOf(x) !== i);
    const dupPrio = dup(input.nodes.map((n) => n.priority));
    if (dupPrio !== undefined) throw new Error(`nodes[].priority: ${dupPrio} is used twice (priorities must be distinct)`);
    const dupName = dup(input.nodes.map((n) => n.name));
    if (dupName !== undefined) throw new Error(`nodes[].name: '${dupName}' is used twice (names must be distinct)`);
    const dupIp = dup(input.nodes.map((n) => n.ip));
    if (dupIp !== undefined) throw new Error(`nodes[].ip: '${dupIp}' is used twice (addresses must be distinct)`);
    const self = input.nodes.find((n) => n.name === input.self);
    if (!self) throw new Error(`self: '${input.self}' is not one of nodes[].name (${input.nodes.map((n) => n.name).join(", ")})`);
    match("interface", input.interface, IFACE_RE, "a Linux interface name, at most 15 characters");
    const vrid = input.virtualRouterId ?? d.virtualRouterId;
    intIn("virtualRouterId", vrid, 1, 255);
    const advert = input.advertInt ?? d.advertInt;
    intIn("advertInt", advert, 1, 255);
    const scriptUser = input.scriptUser ?? d.scriptUser;
    match("scriptUser", scriptUser, USER_RE, "a POSIX user name");
    const authFile = input.authFile ?? d.authFile;
    match("authFile", authFile, PATH_RE, "an absolute path");
    const notify = input.notifyMasterPath ?? d.notifyMasterPath;
    match("notifyMasterPath", notify, PATH_RE, "an absolute path");
    const curl = input.curlPath ?? d.curlPath;
    match("curlPath", curl, PATH_RE, "an absolute path");
    const recheck = input.eipRecheckPath ?? "/etc/keepalived/eip_recheck.sh";
    match("eipRecheckPath", recheck, PATH_RE, "an absolute path");
    const pingUrl = input.pingUrl ?? d.pingUrl;
    match("pingUrl", pingUrl, URL_RE, "an http:// URL without spaces or quotes");
    if (input.checkWeight !== undefined) intIn("checkWeight", input.checkWeight, -253, 253);
    const vips = input.virtualIpAddresses ?? [];
    vips.forEach((v, i) => {
        const [addr, len, ...rest] = v.split("/");
        ipv4(`virtualIpAddresses[${i}]`, addr);
        if (rest.length > 0 || len === undefined || !/^[0-9]{1,2}$/.test(len) || Number(len) > 32) {
            throw new Error(`virtualIpAddresses[${i}]: '${v}' is not allowed (a.b.c.d/prefix)`);
        }
    });

    const peers = input.nodes.filter((n) => n.name !== self.name);
    const lines: string[] = [
        "# Rendered by ops-center-ha (renderers/keepalived.ts). Do not edit by hand.",
        `# The VRRP password is defined in ${authFile} (root-only, written at boot); includea makes`,
        "# keepalived refuse to start if that file is missing.",
        `includea ${authFile}`,
        "",
        "global_defs {",
        `    router_id ${self.name}`,
        "    enable_script_security",
        `    script_user ${scriptUser}`,
        "}",
        "",
        "vrrp_script chk_traefik {",
        `    script "${curl} -fsS --max-time 1 ${pingUrl}"`,
        `    interval ${d.checkInterval}`,
        `    fall ${d.checkFall}`,
        `    rise ${d.checkRise}`,
        ...(input.checkWeight !== undefined ? [`    weight ${input.checkWeight}`] : []),
        "}",
        "",
        `vrrp_instance ${d.instanceName} {`,
        "    state BACKUP",
        ...((input.nopreempt ?? d.nopreempt) ? ["    nopreempt"] : []),
        `    interface ${input.interface}`,
        `    virtual_router_id ${vrid}`,
        `    priority ${self.priority}`,
        `    advert_int ${advert}`,
        `    unicast_src_ip ${self.ip}`,
        "    unicast_peer {",
        ...peers.map((p) => `        ${p.ip}`),
        "    }",
        "    authentication {",
        "        auth_type PASS",
        `        auth_pass \${${d.authParam}}`,
        "    }",
        "    track_script {",
        "        chk_traefik",
        "    }",
        `    notify_master "${notify}"`,
        "    # Every state change is recorded for the EIP re-check (renderers/eipRecheck.ts).",
        `    notify "${recheck}"`,
    ];
    if (vips.length > 0) {
        lines.push("    virtual_ipaddress {", ...vips.map((v) => `        ${v} dev ${input.interface}`), "    }");
    } else {
        lines.push("    # No virtual_ipaddress: in AWS the Elastic IP is moved by notify_master.");
    }
    lines.push("}", "");
    return lines.join("\n");
}

/**
 * Content of the root-only auth include file (`/etc/keepalived/auth.conf`, mode 0600), written at boot from the
 * secret. The only place the VRRP password appears; never ship it as a Swarm config or in user data in clear.
 */
export function renderKeepalivedAuth(authPass: string): string {
    validateAuthPass(authPass);
    return `$${KEEPALIVED_DEFAULTS.authParam}=${authPass}\n`;
}

/** Input of {@link renderNotifyMaster}. */
export interface NotifyMasterInput {
    /** Allocation id of the Elastic IP that is the edge VIP (eipalloc-...). */
    readonly allocationId: string;
    /** AWS region of the Elastic IP and the instances. */
    readonly region: string;
    /** Absolute path of the aws CLI on the host. */
    readonly awsCli?: string;
    /** Absolute path of curl on the host. */
    readonly curlPath?: string;
    /** Instance metadata endpoint (IMDSv2); default http://169.254.169.254. */
    readonly imdsEndpoint?: string;
    /** How many association attempts before giving up (1-20). */
    readonly maxAttempts?: number;
    /** Seconds between attempts (0-30). */
    readonly retryDelaySeconds?: number;
}

/**
 * `notify_master.sh`: when this host becomes VRRP master, associate the Elastic IP with this instance
 * (instance id from IMDSv2), with bounded retries, logging to syslog and stdout. POSIX sh.
 */
export function renderNotifyMaster(input: NotifyMasterInput): string {
    const d = KEEPALIVED_DEFAULTS;
    match("allocationId", input.allocationId, /^eipalloc-[0-9a-f]{8,17}$/, "eipalloc- followed by 8-17 hex digits");
    match("region", input.region, /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/, "an AWS region such as us-east-1");
    const aws = input.awsCli ?? d.awsCli;
    match("awsCli", aws, PATH_RE, "an absolute path");
    const curl = input.curlPath ?? d.curlPath;
    match("curlPath", curl, PATH_RE, "an absolute path");
    const imds = input.imdsEndpoint ?? d.imdsEndpoint;
    match("imdsEndpoint", imds, /^http:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/, "http://host[:port] without a path");
    const attempts = input.maxAttempts ?? d.notifyMaxAttempts;
    intIn("maxAttempts", attempts, 1, 20);
    const delay = input.retryDelaySeconds ?? d.notifyRetryDelaySeconds;
    intIn("retryDelaySeconds", delay, 0, 30);
    return `#!/bin/sh
# Rendered by ops-center-ha (renderers/keepalived.ts). Do not edit by hand.
# keepalived notify_master: move the edge Elastic IP to this instance.
set -u
AWS='${aws}'
CURL='${curl}'
IMDS='${imds}'
ALLOCATION_ID='${input.allocationId}'
REGION='${input.region}'
MAX_ATTEMPTS=${attempts}
RETRY_DELAY=${delay}

log() {
    echo "${d.logTag}: $*"
    logger -t '${d.logTag}' -- "$*" 2>/dev/null || true
}

instance_id() {
    token=$("$CURL" -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$IMDS/latest/api/token") || return 1
    "$CURL" -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/instance-id"
}

attempt=1
while [ "$attempt" -le "$MAX_ATTEMPTS" ]; do
    if iid=$(instance_id) && [ -n "$iid" ]; then
        if "$AWS" ec2 associate-address --allocation-id "$ALLOCATION_ID" --instance-id "$iid" \\
            --allow-reassociation --region "$REGION" >/dev/null; then
            log "associated $ALLOCATION_ID with $iid (attempt $attempt)"
            exit 0
        fi
        log "associate-address failed for $iid (attempt $attempt of $MAX_ATTEMPTS)"
    else
        log "could not read the instance id from IMDSv2 (attempt $attempt of $MAX_ATTEMPTS)"
    fi
    attempt=$((attempt + 1))
    [ "$attempt" -le "$MAX_ATTEMPTS" ] && sleep "$RETRY_DELAY"
done
log "giving up: $ALLOCATION_ID not associated after $MAX_ATTEMPTS attempts"
exit 1
`;
}
