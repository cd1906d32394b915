/**
 * The command line of one etcd member of Patroni's DCS (3 per region, one per zone). etcd takes its whole
 * configuration from flags, so this renderer returns them; the component passes them as the container args.
 * Pure: no Pulumi, no I/O.
 */

/** Input of {@link etcdMemberArgs}. */
export interface EtcdMemberInput {
    /** This member's name, e.g. "etcd-1". */
    readonly name: string;
    /** Every member's name, this one included (the initial cluster). */
    readonly members: readonly string[];
    /** Host name of a member (its Swarm service name on the data network), from its name. */
    readonly hostOf: (member: string) => string;
    /** Cluster token: distinct per region so that two regions' members can never join each other. */
    readonly clusterToken: string;
    /** Data directory inside the container (a pinned volume). */
    readonly dataDir?: string;
    /** Client and peer port of a member (default 2379/2380 for all; the loopback tests give each its own). */
    readonly portsOf?: (member: string) => { readonly client: number; readonly peer: number };
    /** Address the member listens on (default 0.0.0.0). */
    readonly listenHost?: string;
}

export const ETCD_DEFAULTS = {
    clientPort: 2379,
    peerPort: 2380,
    dataDir: "/etcd-data",
    /** Patroni writes a few small keys: 2 GiB is etcd's own default quota, kept explicit. */
    quotaBackendBytes: 2 * 1024 ** 3,
    /** Revisions kept by auto compaction; Patroni needs none of its history. */
    autoCompactionRetention: "1",
} as const;

const NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;

const portsOf = (input: EtcdMemberInput, m: string) => input.portsOf?.(m) ?? { client: ETCD_DEFAULTS.clientPort, peer: ETCD_DEFAULTS.peerPort };
const peerUrl = (input: EtcdMemberInput, m: string) => `http://${input.hostOf(m)}:${portsOf(input, m).peer}`;
const clientUrl = (input: EtcdMemberInput, m: string) => `http://${input.hostOf(m)}:${portsOf(input, m).client}`;

export function etcdMemberArgs(input: EtcdMemberInput): string[] {
    const { client: clientPort, peer: peerPort } = portsOf(input, input.name);
    const listen = input.listenHost ?? "0.0.0.0";
    for (const m of input.members) {
        if (!NAME_RE.test(m)) throw new Error(`etcd: member name ${JSON.stringify(m)} is invalid: lower-case letters, digits and -`);
    }
    if (!input.members.includes(input.name)) throw new Error(`etcd: name ${JSON.stringify(input.name)} is not one of members ${input.members.join(", ")}`);
    if (input.members.length < 3 || input.members.length % 2 === 0) {
        throw new Error(`etcd: members = ${input.members.length} is invalid: an odd number, at least 3, so that a majority survives one loss`);
    }
    if (!/^[A-Za-z0-9-]{1,64}$/.test(input.clusterToken)) throw new Error(`etcd: clusterToken ${JSON.stringify(input.clusterToken)} is invalid: letters, digits and -`);
    return [
        `--name=${input.name}`,
        `--data-dir=${input.dataDir ?? ETCD_DEFAULTS.dataDir}`,
        `--listen-client-urls=http://${listen}:${clientPort}`,
        `--advertise-client-urls=${clientUrl(input, input.name)}`,
        `--listen-peer-urls=http://${listen}:${peerPort}`,
        `--initial-advertise-peer-urls=${peerUrl(input, input.name)}`,
        `--initial-cluster=${input.members.map((m) => `${m}=${peerUrl(input, m)}`).join(",")}`,
        `--initial-cluster-token=${input.clusterToken}`,
        "--initial-cluster-state=new",
        `--quota-backend-bytes=${ETCD_DEFAULTS.quotaBackendBytes}`,
        "--auto-compaction-mode=revision",
        `--auto-compaction-retention=${ETCD_DEFAULTS.autoCompactionRetention}`,
    ];
}

/**
 * The etcd service's Docker health check (`CMD` form; the image has etcdctl and no HTTP client): a serializable read
 * served by this member alone, with no quorum and no leader needed, as kubeadm's etcd liveness probe
 * (`/health?exclude=NOSPACE&serializable=true`, cmd/kubeadm/app/phases/etcd/local.go). It must not need quorum:
 * Swarm publishes a task's DNS name only once its health check passes, and a member joining by `member add` counts
 * for quorum before its peers can resolve it, so a quorum check deadlocks the join and then kills the live members.
 */
export function etcdHealthcheck(clientPort: number = ETCD_DEFAULTS.clientPort): string[] {
    return ["CMD", "etcdctl", `--endpoints=http://127.0.0.1:${clientPort}`, "--dial-timeout=2s", "--command-timeout=2s", "get", "--consistency=s", "health"];
}

/** Where the component mounts {@link renderEtcdEntrypoint}'s script (a Swarm config) in the etcd container. */
export const ETCD_ENTRYPOINT_FILE = "/etc/ops-center/etcd-entrypoint.sh";

/**
 * The etcd member's entrypoint: a POSIX sh script that decides how the member joins, then execs etcd with
 * {@link etcdMemberArgs}. Run by the image's `/bin/sh` (registry.k8s.io/etcd ships bash-static there and nothing
 * else but etcd, etcdctl and cp), so it uses shell builtins, etcd and etcdctl only: no sed, grep or sleep.
 *
 * The rule:
 * - data dir holds a WAL (`member/wal`): a restart with its data; etcd ignores the `--initial-*` flags, exec.
 * - data dir empty, and a live member answers `etcdctl member list` on the OTHER members' client URLs: this
 *   member lost its data (a replaced host, a new volume). Remove every entry with its name or peer URL (the old
 *   identity, started or not), `member add` itself, and start with `--initial-cluster-state=existing` and the
 *   initial cluster that `member add` prints. Any failure exits 1: Swarm restarts the task after its restart
 *   delay and the script tries again (no loop here, nothing to sleep with).
 * - data dir empty and no other member answers: only the FIRST member of `members` (the bootstrap member) starts,
 *   as a new ONE-member cluster; every other member exits 1 and retries until a member answers, then joins by
 *   `member add` as above. So the first deploy grows the cluster 1 -> 2 -> 3 through the same path as a rejoin
 *   (etcd accepts adding a member to a one-member cluster despite --strict-reconfig-check), each member is healthy
 *   on its own as soon as it starts (which lets the services roll one at a time, each converged before the next:
 *   components/postgres.ts), and two partitioned empty members can never bootstrap two clusters. The bootstrap
 *   member wiped while both others are unreachable would start a new cluster of its own, which they refuse (another
 *   cluster id); the README runbook says how to clear it.
 */
export function renderEtcdEntrypoint(input: EtcdMemberInput): string {
    const args = etcdMemberArgs(input);
    const fixed = args.filter((a) => !a.startsWith("--initial-cluster=") && !a.startsWith("--initial-cluster-state="));
    const bootstrap = input.name === input.members[0];
    const alone = `${input.name}=${peerUrl(input, input.name)}`;
    const others = input.members.filter((m) => m !== input.name).map((m) => clientUrl(input, m));
    const q = (v: string) => `'${v.replace(/'/g, `'"'"'`)}'`;
    return `#!/bin/sh
# etcd member ${input.name}: the join rule of renderers/etcd.ts renderEtcdEntrypoint (rendered, do not edit).
set -u
NAME=${q(input.name)}
DATA=${q(input.dataDir ?? ETCD_DEFAULTS.dataDir)}
SELF_PEER=${q(peerUrl(input, input.name))}
BOOTSTRAP=${bootstrap ? "yes" : "no"}
ALONE=${q(alone)}
OTHERS=${q(others.join(","))}
log() { echo "etcd-entrypoint[$NAME]: $*" >&2; }
ctl() { etcdctl --endpoints="$OTHERS" --dial-timeout=2s --command-timeout=5s "$@"; }
start() {
    log "exec etcd --initial-cluster-state=$1 --initial-cluster=$2"
    exec etcd ${fixed.map(q).join(" ")} --initial-cluster="$2" --initial-cluster-state="$1"
}
if [ -d "$DATA/member/wal" ]; then
    log "data dir holds a WAL: restart with its data"
    start new "$ALONE"
fi
if ! LIST=$(ctl member list 2>&1); then
    if [ "$BOOTSTRAP" = yes ]; then
        log "data dir empty and no other member answers: bootstrap a new one-member cluster ($LIST)"
        start new "$ALONE"
    fi
    log "data dir empty and no member answers yet: exit for a restart (only the bootstrap member starts a cluster)"
    exit 1
fi
log "data dir empty and the cluster is live: rejoin as a new member"
while IFS=, read -r id status name peers rest; do
    name=\${name# }
    peers=\${peers# }
    if [ -n "$id" ] && { [ "$name" = "$NAME" ] || [ "$peers" = "$SELF_PEER" ]; }; then
        log "member remove $id (the old identity, $status)"
        ctl member remove "$id" >&2 || { log "member remove $id failed: exit for a restart"; exit 1; }
    fi
done <<EOF
$LIST
EOF
if ! ADDED=$(ctl member add "$NAME" --peer-urls="$SELF_PEER" 2>&1); then
    log "member add failed ($ADDED): exit for a restart"
    exit 1
fi
CLUSTER=
while IFS= read -r line; do
    case "$line" in
        ETCD_INITIAL_CLUSTER=*) CLUSTER=\${line#ETCD_INITIAL_CLUSTER=}; CLUSTER=\${CLUSTER#\\"}; CLUSTER=\${CLUSTER%\\"} ;;
    esac
done <<EOF
$ADDED
EOF
if [ -z "$CLUSTER" ]; then
    log "member add printed no ETCD_INITIAL_CLUSTER ($ADDED): exit for a restart"
    exit 1
fi
start existing "$CLUSTER"
`;
}
