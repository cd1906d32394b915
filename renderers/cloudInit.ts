/**
 * cloud-init user data of a Swarm host (pure: typed input -> `#cloud-config` text).
 *
 * What a host does at first boot (and, for the Swarm part, at every boot through a systemd unit):
 * - sets its hostname (`<role>-<index>`, the Swarm node name), installs Docker from Debian (`docker.io`),
 *   the AWS CLI and curl (+ keepalived on edge hosts; its config comes later from the edge tier, and
 *   Debian's unit does not start without /etc/keepalived/keepalived.conf);
 * - app-0 (`join: init`) runs `docker swarm init` (or re-joins a live Swarm when it was replaced), then
 *   writes the manager and worker join tokens to SSM Parameter Store as SecureString under
 *   `<prefix>/{manager,worker}-token`, its address under `<prefix>/manager-addr` and, last, its instance id
 *   under `<prefix>/manager-instance-id` (the readiness signal the Pulumi Docker provider waits for);
 * - app-1/app-2 (`join: manager`) and every other host (`join: worker`) poll those parameters in a bounded
 *   loop and join;
 * - every host publishes its wanted node labels (`zone=<az> role=<role>`) to `<prefix>/nodes/<hostname>`. A node
 *   cannot label itself (the node API is manager-only), so every manager runs a systemd timer that reads
 *   `<prefix>/nodes/*` and applies the labels to Ready nodes with `docker node update --label-add`; it also
 *   removes a Down node superseded by a Ready node of the same hostname (a replaced host). Any manager can do
 *   it, so labelling survives the loss of app-0 and covers hosts added later.
 * - edge-0 (given `edgeEipAllocationId`) associates the edge Elastic IP to itself once, only if it is not
 *   associated yet (`--no-allow-reassociation`): keepalived moves it later, and Pulumi never fights it.
 *
 * No secret is in the user data: tokens are created on the host and read at run time from SSM.
 */
import { stringify } from "yaml";
import { overlaps, parseCidr } from "../lib/cidr";
import type { HostRole } from "../config/types";
import type { SwarmJoin } from "../lib/placement";
import { DATA_VOLUME_DEFAULTS, renderDataVolumeScript } from "./dataVolume";
import { publishHostKeyCommand, SSH_PATH_DEFAULTS } from "../lib/sshPath";
import { KEEPALIVED_DEFAULTS } from "./keepalived";

/** Production defaults, shared by the SwarmHosts component and the tests. */
export const CLOUD_INIT_DEFAULTS = {
    /** Join attempts of a manager or worker (x interval = 15 min bound). */
    joinAttempts: 90,
    /** Seconds between join attempts. */
    joinIntervalSeconds: 10,
    /** Attempts of app-0 to re-join a live Swarm before it creates a new one. */
    rejoinAttempts: 3,
    /** Seconds between two runs of the manager's labelling timer. */
    labelIntervalSeconds: 60,
    /** Swarm overlay address pool: outside 10.0.0.0/8 so overlay subnets never shadow a VPC or its peer. */
    defaultAddrPool: "172.24.0.0/14",
    /** Size of each overlay network cut from the pool. */
    defaultAddrPoolMaskLength: 24,
    /** Debian packages of every host. */
    packages: ["docker.io", "awscli", "curl", "ca-certificates"],
    /** Extra Debian packages of edge hosts. */
    edgePackages: ["keepalived"],
    /** Where the host scripts live. */
    bootstrapPath: "/usr/local/sbin/ops-swarm-bootstrap",
    labelerPath: "/usr/local/sbin/ops-swarm-label",
    /**
     * Images no container uses and older than this are removed daily: every image bump otherwise leaves the old
     * one on the root volume for ever. A week keeps the image a rollback of last week's release needs.
     */
    imagePruneUntilHours: 168,
    /** Where the data hosts' kernel settings for Redis live (applied at first boot and by systemd-sysctl at every boot). */
    redisSysctlPath: "/etc/sysctl.d/60-ops-center-redis.conf",
} as const;

/** Where Debian's `awscli` package installs the AWS CLI. */
const DEBIAN_AWS_CLI = "/usr/bin/aws";

/** Parameter Store folder of a stack's Swarm bootstrap data (the hosts' IAM policies are scoped to it). */
export function swarmSsmPrefix(stack: string): string {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(stack)) throw new Error(`stack = ${JSON.stringify(stack)}: must be a Pulumi stack name ([A-Za-z0-9_.-])`);
    return `/ops-center-ha/${stack}/swarm`;
}

export interface CloudInitInput {
    /** Swarm node hostname, `<role>-<index>`, unique in the region. */
    readonly hostname: string;
    /** Host pool role; becomes the `role` node label. */
    readonly role: HostRole;
    /** Availability zone name (e.g. us-east-1a); becomes the `zone` node label. */
    readonly zone: string;
    /** `init` (app-0 only), `manager` (app-1, app-2) or `worker`. */
    readonly join: SwarmJoin;
    /** AWS region of the host, for the AWS CLI. */
    readonly region: string;
    /** SSM folder from `swarmSsmPrefix(stack)`. */
    readonly ssmPrefix: string;
    /** Login user of the AMI; added to the `docker` group for the Pulumi Docker provider's ssh:// access. */
    readonly sshUser: string;
    /** CIDRs the Swarm overlay pool must not overlap (this VPC and the peer VPC). */
    readonly reservedCidrs: readonly string[];
    /**
     * Data hosts: the EBS volume that holds every Docker volume of the host (renderers/dataVolume.ts). It is mounted
     * by a unit that runs before the Swarm bootstrap, so no task is placed here before its data is.
     */
    readonly dataVolumeId?: string;
    /**
     * Install the Amazon SSM Agent (not in Debian's archive nor on Debian's AMIs): AWS's .deb from the regional
     * S3 bucket. Needed where Run Command / State Manager associations run (the edge hosts' keepalived files).
     */
    readonly ssmAgent?: boolean;
    /** edge-0 only: allocation id of the edge Elastic IP to associate once at first boot. */
    readonly edgeEipAllocationId?: string;
    /** Join attempts (default `CLOUD_INIT_DEFAULTS.joinAttempts`). */
    readonly joinAttempts?: number;
    /** Seconds between join attempts (default `CLOUD_INIT_DEFAULTS.joinIntervalSeconds`). */
    readonly joinIntervalSeconds?: number;
}

const HOSTNAME = /^(edge|app|data)-\d{1,3}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ZONE = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;
const PREFIX = /^\/ops-center-ha\/[A-Za-z0-9_.-]{1,100}\/swarm$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const EIP_ALLOC = /^eipalloc-[0-9a-f]{8,17}$/;

function check(input: CloudInitInput): Required<Pick<CloudInitInput, "joinAttempts" | "joinIntervalSeconds">> {
    const bad = (field: string, value: unknown, allowed: string): never => {
        throw new Error(`cloud-init ${field} = ${JSON.stringify(value)}: ${allowed}`);
    };
    if (!HOSTNAME.test(input.hostname)) bad("hostname", input.hostname, "must be <edge|app|data>-<index>");
    if (!["edge", "app", "data"].includes(input.role)) bad("role", input.role, "must be edge, app or data");
    if (!input.hostname.startsWith(`${input.role}-`)) bad("hostname", input.hostname, `must start with the role ${input.role}-`);
    if (!ZONE.test(input.zone)) bad("zone", input.zone, "must be an availability zone name such as us-east-1a");
    if (!REGION.test(input.region)) bad("region", input.region, "must be an AWS region such as us-east-1");
    if (!input.zone.startsWith(input.region)) bad("zone", input.zone, `must be a zone of region ${input.region}`);
    if (!["init", "manager", "worker"].includes(input.join)) bad("join", input.join, "must be init, manager or worker");
    if (input.join !== "worker" && input.role !== "app") bad("join", input.join, "managers must be app hosts");
    if (input.join === "init" && input.hostname !== "app-0") bad("join", input.join, "only app-0 initialises the Swarm");
    if (!PREFIX.test(input.ssmPrefix)) bad("ssmPrefix", input.ssmPrefix, "must be /ops-center-ha/<stack>/swarm (see swarmSsmPrefix)");
    if (!USER.test(input.sshUser)) bad("sshUser", input.sshUser, "must be a Unix user name");
    if (input.dataVolumeId !== undefined && input.role !== "data") bad("dataVolumeId", input.dataVolumeId, "is only for data hosts");
    if (input.edgeEipAllocationId !== undefined) {
        if (!EIP_ALLOC.test(input.edgeEipAllocationId)) bad("edgeEipAllocationId", input.edgeEipAllocationId, "must be an eipalloc-<hex> id");
        if (input.role !== "edge") bad("edgeEipAllocationId", input.edgeEipAllocationId, "is only for edge hosts");
    }
    const pool = parseCidr(CLOUD_INIT_DEFAULTS.defaultAddrPool)!;
    for (const c of input.reservedCidrs) {
        const parsed = parseCidr(c);
        if (!parsed) bad("reservedCidrs", c, "must be IPv4 CIDRs");
        else if (overlaps(parsed, pool)) bad("reservedCidrs", c, `must not overlap the Swarm overlay pool ${CLOUD_INIT_DEFAULTS.defaultAddrPool}`);
    }
    const joinAttempts = input.joinAttempts ?? CLOUD_INIT_DEFAULTS.joinAttempts;
    const joinIntervalSeconds = input.joinIntervalSeconds ?? CLOUD_INIT_DEFAULTS.joinIntervalSeconds;
    if (!Number.isInteger(joinAttempts) || joinAttempts < 1 || joinAttempts > 1000) bad("joinAttempts", joinAttempts, "must be an integer from 1 to 1000");
    if (!Number.isInteger(joinIntervalSeconds) || joinIntervalSeconds < 1 || joinIntervalSeconds > 300) {
        bad("joinIntervalSeconds", joinIntervalSeconds, "must be an integer from 1 to 300");
    }
    return { joinAttempts, joinIntervalSeconds };
}

/**
 * Shell shared by the bootstrap and the managers' labelling pass (needs log, get_param, put_param, NODE_NAME,
 * PREFIX, and ADDR, INSTANCE_ID, VPC_ID once set). Every manager publishes `<prefix>/managers/<hostname>` =
 * `addr=<ip> instance=<id> at=<epoch>` (at join, then every labelling pass): new hosts join through any of them,
 * and the Pulumi Docker provider picks a live one by it (lib/swarmManagers.ts).
 */
const SHARED_SHELL = `imds() {
  local t
  t=$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
  curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}
# Every published manager address but ours, once each: the managers' own entries, then the legacy single one.
manager_addrs() {
  {
    aws ssm get-parameters-by-path --path "$PREFIX/managers" --query 'Parameters[].Value' --output text 2>/dev/null | tr '\\t' '\\n' | sed -n 's/.*addr=\\([0-9.]*\\).*/\\1/p' || true
    get_param manager-addr || true
  } | awk -v self="$ADDR" 'NF && $0 != "None" && $0 != self && !seen[$0]++'
}
heartbeat() { put_param "managers/$NODE_NAME" String "addr=$ADDR instance=$INSTANCE_ID at=$(date +%s)"; }
mark_initialised() {
  local m
  m=$(get_param initialised || true)
  [ "\${m%% *}" = "$VPC_ID" ] || put_param initialised String "$VPC_ID $(date +%s)"
}
`;

/** Single-quotes a value for sh (every value is validated first; this is belt and braces). */
function q(value: string | number): string {
    return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** The bootstrap script (bash): joins the Swarm, publishes tokens (app-0) and this node's wanted labels. */
export function renderSwarmBootstrapScript(input: CloudInitInput): string {
    const { joinAttempts, joinIntervalSeconds } = check(input);
    const d = CLOUD_INIT_DEFAULTS;
    return `#!/bin/bash
# Rendered by renderers/cloudInit.ts. Joins this host to the region's Swarm; safe to re-run at every boot.
# No secret here: join tokens live in SSM Parameter Store (SecureString) and are read at run time.
set -euo pipefail
NODE_NAME=${q(input.hostname)}
ROLE=${q(input.role)}
ZONE=${q(input.zone)}
JOIN=${q(input.join)}
PREFIX=${q(input.ssmPrefix)}
SSH_USER=${q(input.sshUser)}
EIP_ALLOCATION=${q(input.edgeEipAllocationId ?? "")}
ATTEMPTS=${joinAttempts}
INTERVAL=${joinIntervalSeconds}
REJOIN_ATTEMPTS=${d.rejoinAttempts}
export AWS_DEFAULT_REGION=${q(input.region)}
umask 077

log() { echo "ops-swarm-bootstrap: $*" >&2; }
get_param() { aws ssm get-parameter --name "$PREFIX/$1" --with-decryption --query Parameter.Value --output text 2>/dev/null; }
# put_param NAME TYPE VALUE: the value goes through a 0600 file, never through argv.
put_param() {
  local f
  f=$(mktemp)
  printf '%s' "$3" > "$f"
  aws ssm put-parameter --name "$PREFIX/$1" --type "$2" --value "file://$f" --overwrite > /dev/null
  rm -f "$f"
}
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }
reachable() { timeout 5 bash -c ">/dev/tcp/$1/2377" 2>/dev/null; }
${SHARED_SHELL}
# join_swarm KIND ATTEMPTS: bounded polling of the join token and of every published manager address; joins
# through the first manager that answers on 2377 (any live manager will do: they all hold the Raft log).
join_swarm() {
  local kind=$1 attempts=$2 i j mgr tok
  for i in $(seq 1 "$attempts"); do
    tok=$(get_param "$kind-token" || true)
    if [ -n "$tok" ]; then
      for mgr in $(manager_addrs); do
        reachable "$mgr" || { log "manager $mgr does not answer on 2377"; continue; }
        if docker swarm join --token "$tok" --advertise-addr "$ADDR" --listen-addr "$ADDR:2377" "$mgr:2377"; then return 0; fi
        [ "$(swarm_state)" = active ] && return 0
        if [ "$(swarm_state)" = pending ]; then
          # A timed-out join goes on in the background. Never leave it: the leader may already count this node in
          # the Raft group, and with a manager Down (this host's predecessor) 4 members with 2 live have no quorum
          # (Swarm lab, 2026-12-07: leaving a pending join lost the Swarm its leader for good). Wait, bounded.
          for j in $(seq 1 "$attempts"); do
            [ "$(swarm_state)" = pending ] || break
            log "join through $mgr pending ($j/$attempts): waiting for it"
            sleep "$INTERVAL"
          done
          [ "$(swarm_state)" = active ] && return 0
          [ "$(swarm_state)" = pending ] && { log "join through $mgr still pending after $attempts checks; not leaving it (the managers may count this node)"; return 1; }
        fi
      done
    fi
    log "attempt $i/$attempts: no $kind token or no live manager yet"
    sleep "$INTERVAL"
  done
  return 1
}

i=0
until docker info > /dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -ge 60 ] && { log "docker did not start"; exit 1; }
  sleep 2
done
usermod -aG docker "$SSH_USER"
ADDR=$(imds local-ipv4)
INSTANCE_ID=$(imds instance-id)

# edge-0 only: take the edge Elastic IP once, unless keepalived already placed it on another edge host.
if [ -n "$EIP_ALLOCATION" ]; then
  for i in $(seq 1 30); do
    if out=$(aws ec2 associate-address --allocation-id "$EIP_ALLOCATION" --instance-id "$INSTANCE_ID" --no-allow-reassociation 2>&1); then
      log "associated $EIP_ALLOCATION"; break
    fi
    case $out in *AlreadyAssociated*) log "$EIP_ALLOCATION is already associated: leaving it"; break ;; esac
    log "associate-address attempt $i/30 failed: $out"
    sleep 10
  done
fi

VPC_ID=$(imds "network/interfaces/macs/$(imds mac)/vpc-id")

if [ "$(swarm_state)" != active ]; then
  case $JOIN in
    init)
      # \`swarm init\` happens once per stack: the first manager that runs writes <prefix>/initialised
      # ("<vpc-id> <epoch>"). With that marker for this VPC, a replaced app-0 only ever joins the live Swarm
      # through any manager that answers, and fails (bounded) rather than fork a second, empty Swarm. A marker
      # of another VPC is a destroyed stack's leftover. Without a marker (first deploy, or a stack deployed before
      # the marker existed) app-0 still joins any manager that answers, else initialises.
      marker=$(get_param initialised || true)
      if [ "\${marker%% *}" = "$VPC_ID" ]; then
        join_swarm manager "$ATTEMPTS" || { log "this stack's Swarm was already initialised ($marker) and no manager answered: not creating a second Swarm"; exit 1; }
        log "re-joined this stack's Swarm"
      elif [ -n "$(manager_addrs)" ] && join_swarm manager "$REJOIN_ATTEMPTS"; then
        log "joined the live Swarm"
      else
        docker swarm init --advertise-addr "$ADDR" --listen-addr "$ADDR:2377" \\
          --default-addr-pool ${q(d.defaultAddrPool)} --default-addr-pool-mask-length ${d.defaultAddrPoolMaskLength}
      fi ;;
    manager) join_swarm manager "$ATTEMPTS" || { log "could not join as manager"; exit 1; } ;;
    worker) join_swarm worker "$ATTEMPTS" || { log "could not join as worker"; exit 1; } ;;
  esac
fi

if [ "$JOIN" = init ]; then
  manager_token=$(docker swarm join-token -q manager)
  worker_token=$(docker swarm join-token -q worker)
  put_param manager-token SecureString "$manager_token"
  put_param worker-token SecureString "$worker_token"
  unset manager_token worker_token
  put_param manager-addr String "$ADDR"
  put_param manager-instance-id String "$INSTANCE_ID"
fi
if [ "$JOIN" != worker ]; then
  mark_initialised
  heartbeat
fi
put_param "nodes/$NODE_NAME" String "zone=$ZONE role=$ROLE"
log "$NODE_NAME ($ROLE, $ZONE) is in the Swarm"
`;
}

/** The managers' labelling pass (bash), run by a systemd timer: applies wanted labels, drops superseded nodes. */
export function renderSwarmLabelerScript(input: Pick<CloudInitInput, "hostname" | "region" | "ssmPrefix">): string {
    if (!HOSTNAME.test(input.hostname)) throw new Error(`cloud-init hostname = ${JSON.stringify(input.hostname)}: must be <edge|app|data>-<index>`);
    if (!REGION.test(input.region)) throw new Error(`cloud-init region = ${JSON.stringify(input.region)}: must be an AWS region such as us-east-1`);
    if (!PREFIX.test(input.ssmPrefix)) throw new Error(`cloud-init ssmPrefix = ${JSON.stringify(input.ssmPrefix)}: must be /ops-center-ha/<stack>/swarm`);
    return `#!/bin/bash
# Rendered by renderers/cloudInit.ts. One labelling pass (bounded: one read, one loop over the node list).
# Nodes publish their wanted labels to SSM; a manager applies them, since a node cannot label itself.
set -euo pipefail
NODE_NAME=${q(input.hostname)}
PREFIX=${q(input.ssmPrefix)}
export AWS_DEFAULT_REGION=${q(input.region)}
umask 077
[ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] || exit 0

log() { echo "ops-swarm-label: $*" >&2; }
get_param() { aws ssm get-parameter --name "$PREFIX/$1" --with-decryption --query Parameter.Value --output text 2>/dev/null; }
put_param() {
  local f
  f=$(mktemp)
  printf '%s' "$3" > "$f"
  aws ssm put-parameter --name "$PREFIX/$1" --type "$2" --value "file://$f" --overwrite > /dev/null
  rm -f "$f"
}
reachable() { timeout 5 bash -c ">/dev/tcp/$1/2377" 2>/dev/null; }
${SHARED_SHELL}
ADDR=$(imds local-ipv4)
INSTANCE_ID=$(imds instance-id)
VPC_ID=$(imds "network/interfaces/macs/$(imds mac)/vpc-id")
# This manager is alive: its heartbeat (the Pulumi Docker provider picks a manager by it), the marker that this
# stack's Swarm exists, and the legacy single address repointed here when the manager it names is gone.
heartbeat
mark_initialised
legacy=$(get_param manager-addr || true)
if [ "$legacy" != "$ADDR" ] && { [ -z "$legacy" ] || ! reachable "$legacy"; }; then put_param manager-addr String "$ADDR"; fi

declare -A want=() ready=()
while IFS=$'\\t' read -r name value; do
  [ -n "$name" ] && [ "$name" != None ] && want["\${name##*/}"]="$value"
done < <(aws ssm get-parameters-by-path --path "$PREFIX/nodes" --query 'Parameters[].[Name,Value]' --output text)

nodes=$(docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}}')
while read -r id host status; do
  [ "$status" = Ready ] && ready["$host"]=1
done <<< "$nodes"

while read -r id host status; do
  [ -n "$id" ] || continue
  if [ "$status" != Ready ]; then
    # A replaced host leaves a Down node with its hostname behind: demote (if manager) and remove it.
    if [ -n "\${ready[$host]:-}" ]; then
      docker node demote "$id" > /dev/null 2>&1 || true
      docker node rm "$id" > /dev/null 2>&1 && echo "ops-swarm-label: removed superseded node $id ($host)"
    fi
    continue
  fi
  labels=\${want[$host]:-}
  [ -n "$labels" ] || continue
  args=()
  for kv in $labels; do
    # A host may only claim the role its hostname carries (edge-1 -> role=edge).
    if [[ $kv =~ ^zone=[a-z0-9-]+$ || $kv == "role=\${host%%-*}" && $kv =~ ^role=(edge|app|data)$ ]]; then args+=(--label-add "$kv"); fi
  done
  [ "\${#args[@]}" -gt 0 ] || continue
  have=$(docker node inspect --format 'zone={{index .Spec.Labels "zone"}} role={{index .Spec.Labels "role"}}' "$id")
  if [ "$have" != "$labels" ]; then
    docker node update "\${args[@]}" "$id" > /dev/null && echo "ops-swarm-label: $host <- $labels"
  fi
done <<< "$nodes"
`;
}

/** Installs AWS's SSM Agent package once (bounded download over HTTPS from the region's S3 bucket). */
function ssmAgentInstall(region: string): string {
    const url = `https://s3.${region}.amazonaws.com/amazon-ssm-${region}/latest/debian_amd64/amazon-ssm-agent.deb`;
    return `dpkg -s amazon-ssm-agent >/dev/null 2>&1 || { curl -fsSL --retry 5 --max-time 300 -o /tmp/amazon-ssm-agent.deb ${url} && dpkg -i /tmp/amazon-ssm-agent.deb && rm -f /tmp/amazon-ssm-agent.deb && systemctl enable --now amazon-ssm-agent; }`;
}

/**
 * What keeps a host healthy on its own: a daily `docker image prune` of unused images older than
 * `imagePruneUntilHours` (Docker's `until` filter), at a random time in the first hour so the hosts of a region do not
 * prune together; and, on data hosts, `vm.overcommit_memory = 1`, which Redis asks for in its startup warning
 * (a BGSAVE or AOF rewrite forks; with the default heuristic overcommit the fork of a large instance can fail).
 */
function hostCareFiles(role: HostRole): { path: string; permissions: string; content: string }[] {
    const d = CLOUD_INIT_DEFAULTS;
    const files = [
        {
            path: "/etc/systemd/system/ops-docker-prune.service",
            permissions: "0644",
            content: ["[Unit]", "Description=Remove unused Docker images older than the retention", "After=docker.service", "Requires=docker.service", "",
                "[Service]", "Type=oneshot", `ExecStart=/usr/bin/docker image prune --all --force --filter until=${d.imagePruneUntilHours}h`, "TimeoutStartSec=1800", ""].join("\n"),
        },
        {
            path: "/etc/systemd/system/ops-docker-prune.timer",
            permissions: "0644",
            content: ["[Unit]", "Description=Prune unused Docker images daily", "", "[Timer]", "OnCalendar=daily", "RandomizedDelaySec=1h", "Persistent=true", "",
                "[Install]", "WantedBy=timers.target", ""].join("\n"),
        },
    ];
    if (role === "data") {
        files.push({
            path: d.redisSysctlPath,
            permissions: "0644",
            content: "# Redis (data hosts): a BGSAVE/AOF rewrite forks; heuristic overcommit can refuse that fork (Redis's startup warning).\nvm.overcommit_memory = 1\n",
        });
    }
    return files;
}

/** The complete `#cloud-config` user data of one host. */
export function renderCloudInit(input: CloudInitInput): string {
    check(input);
    const d = CLOUD_INIT_DEFAULTS;
    const manager = input.join !== "worker";
    const dataVolume = input.dataVolumeId !== undefined ? renderDataVolumeScript({ volumeId: input.dataVolumeId }) : undefined;
    const bounded = (input.joinAttempts ?? d.joinAttempts) * ((input.joinIntervalSeconds ?? d.joinIntervalSeconds) + 30) + 600;
    const files: { path: string; permissions: string; content: string }[] = [
        {
            path: "/etc/docker/daemon.json",
            permissions: "0644",
            content: JSON.stringify({ "log-driver": "json-file", "log-opts": { "max-size": "10m", "max-file": "3" } }, null, 2) + "\n",
        },
        { path: d.bootstrapPath, permissions: "0755", content: renderSwarmBootstrapScript(input) },
        {
            path: "/etc/systemd/system/ops-swarm-bootstrap.service",
            permissions: "0644",
            content: [
                "[Unit]",
                "Description=Join this host to the ops-center-ha Swarm",
                "Wants=network-online.target docker.service",
                ...(dataVolume ? ["Requires=ops-data-volume.service"] : []),
                `After=network-online.target docker.service${dataVolume ? " ops-data-volume.service" : ""}`,
                "",
                "[Service]",
                "Type=oneshot",
                "RemainAfterExit=yes",
                `ExecStart=${d.bootstrapPath}`,
                `TimeoutStartSec=${bounded}`,
                "",
                "[Install]",
                "WantedBy=multi-user.target",
                "",
            ].join("\n"),
        },
    ];
    if (dataVolume) {
        files.push(
            { path: DATA_VOLUME_DEFAULTS.scriptPath, permissions: "0755", content: dataVolume },
            {
                path: "/etc/systemd/system/ops-data-volume.service",
                permissions: "0644",
                content: ["[Unit]", "Description=Mount this data host's EBS volume over Docker's volumes", "After=local-fs.target docker.service",
                    "Before=ops-swarm-bootstrap.service", "", "[Service]", "Type=oneshot", "RemainAfterExit=yes", `ExecStart=${DATA_VOLUME_DEFAULTS.scriptPath}`,
                    `TimeoutStartSec=${DATA_VOLUME_DEFAULTS.attempts * DATA_VOLUME_DEFAULTS.intervalSeconds + 300}`, "", "[Install]", "WantedBy=multi-user.target", ""].join("\n"),
            },
            {
                // After a reboot Docker starts only once the volume is mounted (fstab's nofail never blocks the boot).
                path: "/etc/systemd/system/docker.service.d/ops-data-volume.conf",
                permissions: "0644",
                content: ["[Unit]", `RequiresMountsFor=${DATA_VOLUME_DEFAULTS.mountPoint}`, ""].join("\n"),
            },
        );
    }
    files.push(...hostCareFiles(input.role));
    if (manager) {
        // The Docker provider multiplexes its sessions over one SSH connection (lib/sshPath.ts): more than sshd's default 10.
        files.push({ path: "/etc/ssh/sshd_config.d/60-ops-center.conf", permissions: "0644", content: `# ops-center-ha: the Docker provider's multiplexed sessions (ControlMaster)\nMaxSessions ${SSH_PATH_DEFAULTS.managerMaxSessions}\n` });
    }
    if (manager) {
        files.push(
            { path: d.labelerPath, permissions: "0755", content: renderSwarmLabelerScript(input) },
            {
                path: "/etc/systemd/system/ops-swarm-label.service",
                permissions: "0644",
                content: ["[Unit]", "Description=Apply wanted Swarm node labels", "After=docker.service", "", "[Service]", "Type=oneshot",
                    `ExecStart=${d.labelerPath}`, `TimeoutStartSec=${d.labelIntervalSeconds - 10}`, ""].join("\n"),
            },
            {
                path: "/etc/systemd/system/ops-swarm-label.timer",
                permissions: "0644",
                content: ["[Unit]", "Description=Apply wanted Swarm node labels periodically", "", "[Timer]", "OnBootSec=2min",
                    `OnUnitActiveSec=${d.labelIntervalSeconds}s`, "", "[Install]", "WantedBy=timers.target", ""].join("\n"),
            },
        );
    }
    const doc = {
        hostname: input.hostname,
        preserve_hostname: false,
        manage_etc_hosts: true,
        package_update: true,
        packages: [...d.packages, ...(input.role === "edge" ? d.edgePackages : [])],
        write_files: files,
        runcmd: [
            ...(input.ssmAgent ? [["sh", "-c", ssmAgentInstall(input.region)]] : []),
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", "docker.service"],
            // Pulled in (and waited for) by the bootstrap unit below.
            ...(dataVolume ? [["systemctl", "enable", "ops-data-volume.service"]] : []),
            // --no-block: the bootstrap may poll for up to joinAttempts x interval; cloud-init must not wait on it.
            ["systemctl", "enable", "--now", "--no-block", "ops-swarm-bootstrap.service"],
            ...(manager ? [["systemctl", "enable", "--now", "ops-swarm-label.timer"]] : []),
            ["systemctl", "enable", "--now", "ops-docker-prune.timer"],
            // Publish this host's SSH host key by instance id: the Docker provider checks it strictly (lib/sshPath.ts).
            ["sh", "-c", publishHostKeyCommand(input.region, `${input.ssmPrefix}/hostkeys`)],
            ...(manager ? [["systemctl", "reload", "ssh"]] : []),
            // systemd-sysctl read /etc/sysctl.d before cloud-init wrote the file: apply it now (later boots apply it themselves).
            ...(input.role === "data" ? [["sysctl", "-p", d.redisSysctlPath]] : []),
            // Edge: the unprivileged user of keepalived's track/notify scripts, and the AWS CLI where the notify
            // script looks for it (Debian installs it as /usr/bin/aws).
            ...(input.role === "edge"
                ? [
                      ["sh", "-c", `id -u ${KEEPALIVED_DEFAULTS.scriptUser} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin ${KEEPALIVED_DEFAULTS.scriptUser}`],
                      ...((KEEPALIVED_DEFAULTS.awsCli as string) === DEBIAN_AWS_CLI ? [] : [["ln", "-sf", DEBIAN_AWS_CLI, KEEPALIVED_DEFAULTS.awsCli]]),
                  ]
                : []),
        ],
    };
    return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}
