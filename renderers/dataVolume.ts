/**
 * The data host's EBS volume (pure: typed input -> bash script).
 *
 * Data hosts keep every Docker volume (Postgres/Spilo, etcd, Redis, the RDB copies) on a separate, protected and
 * retained EBS volume (components/swarmHosts.ts), mounted over Docker's volumes directory: when the host is replaced,
 * its volume is detached from the old instance and attached to the new one, and this script, run before the host
 * joins the Swarm (so no task lands on it before the data is there), mounts it again:
 * - waits (bounded) for the volume by its id: on Nitro instances it appears as
 *   `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<hex>` (the serial is the volume id without the dash);
 * - formats it (ext4, label `ops-data`) only when it is blank: no filesystem and no signature of any kind
 *   (`blkid -p` probes partition tables and RAID members too); a volume with any other signature is left alone and
 *   the script fails;
 * - stops Docker, mounts it on Docker's volumes directory, records it in fstab by UUID (`nofail`, so a missing volume
 *   never blocks the boot; Docker's drop-in `RequiresMountsFor=` keeps Docker down until it is mounted), starts Docker.
 * Already mounted (a reboot): nothing to do. Docker's Swarm state (/var/lib/docker/swarm) stays on the root volume on
 * purpose: a new host is a new Swarm node, and must not come up with the identity of the node it replaces.
 */

/** Production paths and bounds. */
export const DATA_VOLUME_DEFAULTS = {
    /** Where Docker keeps its local volumes: the whole directory lives on the data volume. */
    mountPoint: "/var/lib/docker/volumes",
    /** udev's stable device links. */
    byIdDir: "/dev/disk/by-id",
    fstab: "/etc/fstab",
    /** Waits for the attachment: 90 x 10 s (the attachment follows the instance's creation). */
    attempts: 90,
    intervalSeconds: 10,
    /** Filesystem label of a volume this script formatted. */
    label: "ops-data",
    /** Where the host script lives. */
    scriptPath: "/usr/local/sbin/ops-data-volume",
} as const;

export interface DataVolumeInput {
    /** The EBS volume id (vol-<hex>). */
    readonly volumeId: string;
    /** Attachment wait bounds (defaults above). */
    readonly attempts?: number;
    readonly intervalSeconds?: number;
    /** Paths (tests point them into a temporary directory). */
    readonly byIdDir?: string;
    readonly fstab?: string;
    readonly mountPoint?: string;
}

const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/;
const PATH = /^\/[A-Za-z0-9._/-]+$/;

function q(value: string | number): string {
    return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** The bash script that mounts the data volume (idempotent; safe at every boot). */
export function renderDataVolumeScript(input: DataVolumeInput): string {
    const d = DATA_VOLUME_DEFAULTS;
    const bad = (field: string, value: unknown, allowed: string): never => {
        throw new Error(`data volume ${field} = ${JSON.stringify(value)}: ${allowed}`);
    };
    if (!VOLUME_ID.test(input.volumeId)) bad("volumeId", input.volumeId, "must be a vol-<hex> EBS volume id");
    const attempts = input.attempts ?? d.attempts;
    const interval = input.intervalSeconds ?? d.intervalSeconds;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 1000) bad("attempts", attempts, "must be an integer from 1 to 1000");
    if (!Number.isInteger(interval) || interval < 1 || interval > 300) bad("intervalSeconds", interval, "must be an integer from 1 to 300");
    const paths = { byIdDir: input.byIdDir ?? d.byIdDir, fstab: input.fstab ?? d.fstab, mountPoint: input.mountPoint ?? d.mountPoint };
    for (const [k, v] of Object.entries(paths)) if (!PATH.test(v)) bad(k, v, "must be an absolute path");
    return `#!/bin/bash
# Rendered by renderers/dataVolume.ts. Mounts this data host's EBS volume over Docker's volumes directory.
set -euo pipefail
VOLUME_ID=${q(input.volumeId)}
BY_ID=${q(paths.byIdDir)}
FSTAB=${q(paths.fstab)}
MOUNT_POINT=${q(paths.mountPoint)}
LABEL=${q(d.label)}
log() { echo "ops-data-volume: $*" >&2; }

mountpoint -q "$MOUNT_POINT" && { log "$MOUNT_POINT is mounted"; exit 0; }

serial=\${VOLUME_ID//-/}
dev=""
for i in $(seq 1 ${attempts}); do
  for c in "$BY_ID/nvme-Amazon_Elastic_Block_Store_$serial" "$BY_ID/nvme-Amazon_Elastic_Block_Store_$serial-ns-1"; do
    if [ -e "$c" ]; then dev=$c; break 2; fi
  done
  log "attempt $i/${attempts}: $VOLUME_ID is not attached yet"
  sleep ${interval}
done
[ -n "$dev" ] || { log "$VOLUME_ID was not attached within ${attempts * interval} s"; exit 1; }

fstype=$(blkid -o value -s TYPE "$dev" || true)
if [ -z "$fstype" ]; then
  # Blank means blank: no filesystem and no other signature (partition table, RAID member, LVM).
  if blkid -p "$dev" > /dev/null 2>&1; then log "$dev ($VOLUME_ID) has a signature but no filesystem: refusing to format it"; exit 1; fi
  log "$VOLUME_ID is blank: formatting it"
  mkfs.ext4 -q -L "$LABEL" "$dev"
fi
uuid=$(blkid -o value -s UUID "$dev")
systemctl stop docker.socket docker.service
mkdir -p "$MOUNT_POINT"
grep -q "^UUID=$uuid " "$FSTAB" || echo "UUID=$uuid $MOUNT_POINT ext4 defaults,nofail,x-systemd.device-timeout=300 0 2" >> "$FSTAB"
mount "$MOUNT_POINT"
systemctl start docker.service
log "$VOLUME_ID ($dev) mounted on $MOUNT_POINT"
`;
}
