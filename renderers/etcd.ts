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

export function etcdMemberArgs(input: EtcdMemberInput): string[] {
    const { clientPort, peerPort } = ETCD_DEFAULTS;
    for (const m of input.members) {
        if (!NAME_RE.test(m)) throw new Error(`etcd: member name ${JSON.stringify(m)} is invalid: lower-case letters, digits and -`);
    }
    if (!input.members.includes(input.name)) throw new Error(`etcd: name ${JSON.stringify(input.name)} is not one of members ${input.members.join(", ")}`);
    if (input.members.length < 3 || input.members.length % 2 === 0) {
        throw new Error(`etcd: members = ${input.members.length} is invalid: an odd number, at least 3, so that a majority survives one loss`);
    }
    if (!/^[A-Za-z0-9-]{1,64}$/.test(input.clusterToken)) throw new Error(`etcd: clusterToken ${JSON.stringify(input.clusterToken)} is invalid: letters, digits and -`);
    const host = input.hostOf(input.name);
    return [
        `--name=${input.name}`,
        `--data-dir=${input.dataDir ?? ETCD_DEFAULTS.dataDir}`,
        `--listen-client-urls=http://0.0.0.0:${clientPort}`,
        `--advertise-client-urls=http://${host}:${clientPort}`,
        `--listen-peer-urls=http://0.0.0.0:${peerPort}`,
        `--initial-advertise-peer-urls=http://${host}:${peerPort}`,
        `--initial-cluster=${input.members.map((m) => `${m}=http://${input.hostOf(m)}:${peerPort}`).join(",")}`,
        `--initial-cluster-token=${input.clusterToken}`,
        "--initial-cluster-state=new",
        `--quota-backend-bytes=${ETCD_DEFAULTS.quotaBackendBytes}`,
        "--auto-compaction-mode=revision",
        `--auto-compaction-retention=${ETCD_DEFAULTS.autoCompactionRetention}`,
    ];
}
