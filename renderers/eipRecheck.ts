/**
 * The edge MASTER keeps the Elastic IP (issue 12 item 9). `notify_master.sh` associates the EIP once per transition,
 * with bounded retries; if every attempt fails (the EC2 API unreachable, throttled, or the instance's public address
 * changing under it) nothing tried again, and a MASTER served no traffic. `eip_recheck.sh` closes that gap:
 *
 * - keepalived's generic `notify` calls it on every state change (`INSTANCE <name> <STATE> <priority>`): it records
 *   the state in a file owned by the script user;
 * - a systemd timer runs it every 30 s (no arguments): when the recorded state is MASTER and EC2 says the EIP is on
 *   another instance (or none), it runs notify_master.sh again.
 *
 * A systemd timer, not a keepalived `track_script`: a tracked script that fails or times out (a slow EC2 API) would
 * put the instance in FAULT and move the VIP for no reason. The timer's outcome never touches VRRP. With the
 * interface endpoints for EC2 (components/network.ts) these calls never depend on the host's public address.
 *
 * Pure: no Pulumi, no I/O.
 */
import { KEEPALIVED_DEFAULTS } from "./keepalived";

export const EIP_RECHECK_DEFAULTS = {
    path: "/etc/keepalived/eip_recheck.sh",
    /** Directory of the state file: created by the apply script, owned by the script user. */
    stateDir: "/var/lib/keepalived-edge",
    stateFile: "/var/lib/keepalived-edge/state",
    intervalSeconds: 30,
    /** Bound of one run (describe + a notify_master run of 5 attempts). */
    timeoutSeconds: 60,
    unitName: "ops-eip-recheck",
} as const;

/** Input of {@link renderEipRecheck}. */
export interface EipRecheckInput {
    /** Allocation id of the edge Elastic IP. */
    readonly allocationId: string;
    /** AWS region of the EIP. */
    readonly region: string;
    /** aws CLI on the host. */
    readonly awsCli?: string;
    /** curl on the host (IMDSv2). */
    readonly curlPath?: string;
    /** Instance metadata endpoint. */
    readonly imdsEndpoint?: string;
    /** Where keepalived's last state is recorded. */
    readonly stateFile?: string;
    /** notify_master.sh, run to (re-)associate. */
    readonly notifyMasterPath?: string;
}

const PATH_RE = /^\/[A-Za-z0-9_./-]+$/;
function check(field: string, v: string, re: RegExp, what: string): string {
    if (!re.test(v)) throw new Error(`${field}: '${v}' is not allowed (${what})`);
    return v;
}

/** `eip_recheck.sh` (POSIX sh). */
export function renderEipRecheck(input: EipRecheckInput): string {
    const d = KEEPALIVED_DEFAULTS;
    const alloc = check("allocationId", input.allocationId, /^eipalloc-[0-9a-f]{8,17}$/, "eipalloc- followed by 8-17 hex digits");
    const region = check("region", input.region, /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/, "an AWS region such as us-east-1");
    const aws = check("awsCli", input.awsCli ?? d.awsCli, PATH_RE, "an absolute path");
    const curl = check("curlPath", input.curlPath ?? d.curlPath, PATH_RE, "an absolute path");
    const imds = check("imdsEndpoint", input.imdsEndpoint ?? d.imdsEndpoint, /^http:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/, "http://host[:port]");
    const state = check("stateFile", input.stateFile ?? EIP_RECHECK_DEFAULTS.stateFile, PATH_RE, "an absolute path");
    const notify = check("notifyMasterPath", input.notifyMasterPath ?? d.notifyMasterPath, PATH_RE, "an absolute path");
    return `#!/bin/sh
# Rendered by ops-center-ha (renderers/eipRecheck.ts). Do not edit by hand.
# With arguments (keepalived notify: INSTANCE <name> <STATE> <priority>): record the state.
# Without (systemd timer): while MASTER, make sure the edge Elastic IP is on this instance.
set -u
AWS='${aws}'
CURL='${curl}'
IMDS='${imds}'
ALLOCATION_ID='${alloc}'
REGION='${region}'
STATE_FILE='${state}'
NOTIFY_MASTER='${notify}'

log() {
    echo "eip-recheck: $*"
    logger -t eip-recheck -- "$*" 2>/dev/null || true
}

if [ "$#" -ge 3 ]; then
    printf '%s\\n' "$3" > "$STATE_FILE.tmp" && mv -f "$STATE_FILE.tmp" "$STATE_FILE"
    exit 0
fi

state=$(cat "$STATE_FILE" 2>/dev/null || echo UNKNOWN)
[ "$state" = MASTER ] || exit 0

token=$("$CURL" -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$IMDS/latest/api/token") || { log "IMDSv2 token failed"; exit 1; }
iid=$("$CURL" -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/instance-id") || { log "IMDSv2 instance id failed"; exit 1; }
holder=$("$AWS" ec2 describe-addresses --allocation-ids "$ALLOCATION_ID" --region "$REGION" \\
    --query 'Addresses[0].InstanceId' --output text) || { log "describe-addresses failed"; exit 1; }
[ "$holder" = "$iid" ] && exit 0
log "MASTER without the EIP (on $holder): re-associating"
exec "$NOTIFY_MASTER"
`;
}

/** The systemd service and timer that run the re-check every 30 s as keepalived's script user. */
export function renderEipRecheckUnits(opts: { scriptUser?: string; path?: string } = {}): { service: string; timer: string } {
    const e = EIP_RECHECK_DEFAULTS;
    const user = check("scriptUser", opts.scriptUser ?? KEEPALIVED_DEFAULTS.scriptUser, /^[a-z_][a-z0-9_-]{0,31}$/, "a POSIX user name");
    const p = check("path", opts.path ?? e.path, PATH_RE, "an absolute path");
    return {
        service: ["[Unit]", "Description=Keep the edge Elastic IP on the keepalived MASTER", "After=keepalived.service", "", "[Service]", "Type=oneshot",
            `User=${user}`, `ExecStart=${p}`, `TimeoutStartSec=${e.timeoutSeconds}`, ""].join("\n"),
        timer: ["[Unit]", "Description=Re-check the edge Elastic IP while MASTER", "", "[Timer]", "OnBootSec=1min", `OnUnitActiveSec=${e.intervalSeconds}s`,
            "AccuracySec=5s", "", "[Install]", "WantedBy=timers.target", ""].join("\n"),
    };
}
