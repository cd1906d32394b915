/**
 * The data host's EBS volume script (renderers/dataVolume.ts), run for real by bash with stub `blkid`, `mkfs.ext4`,
 * `mount`, `mountpoint`, `systemctl` (issue 12 item 2): it waits for the attached volume by its id, formats it only
 * when it is blank, mounts it where Docker keeps its volumes, and never formats a volume that holds data.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { DATA_VOLUME_DEFAULTS, renderDataVolumeScript } from "../renderers/dataVolume";

const root = mkdtempSync(path.join(tmpdir(), "datavolume-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const VOL = "vol-0123456789abcdef0";

const STUBS: Record<string, string> = {
    // blkid -o value -s TYPE <dev>: the filesystem type if $STATE/fstype exists; -p: any signature if $STATE/signature exists.
    blkid: `#!/bin/bash
echo "blkid $*" >> "$STATE/log"
case "$*" in
  *"-s TYPE"*) [ -f "$STATE/fstype" ] && { cat "$STATE/fstype"; exit 0; }; exit 2 ;;
  *"-s UUID"*) echo 0b5e7a1c-uuid ;;
  *-p*) [ -f "$STATE/signature" ] && { echo "$1: PTTYPE=gpt"; exit 0; }; exit 2 ;;
esac`,
    "mkfs.ext4": `#!/bin/bash
echo "mkfs.ext4 $*" >> "$STATE/log"; echo ext4 > "$STATE/fstype"`,
    mount: `#!/bin/bash
echo "mount $*" >> "$STATE/log"; touch "$STATE/mounted"`,
    mountpoint: `#!/bin/bash
[ -f "$STATE/mounted" ]`,
    systemctl: `#!/bin/bash
echo "systemctl $*" >> "$STATE/log"`,
    sleep: `#!/bin/bash
echo "sleep $*" >> "$STATE/log"`,
};

function run(setup: (s: { state: string; byId: string }) => void, opts: { attached?: boolean; attempts?: number } = {}) {
    const dir = path.join(root, String(seq++));
    const bin = path.join(dir, "bin");
    const state = path.join(dir, "state");
    const byId = path.join(dir, "by-id");
    for (const d of [bin, state, byId]) mkdirSync(d, { recursive: true });
    for (const [name, text] of Object.entries(STUBS)) {
        writeFileSync(path.join(bin, name), text + "\n");
        chmodSync(path.join(bin, name), 0o755);
    }
    writeFileSync(path.join(state, "log"), "");
    const fstab = path.join(dir, "fstab");
    writeFileSync(fstab, "# static file system information\n");
    if (opts.attached ?? true) writeFileSync(path.join(byId, `nvme-Amazon_Elastic_Block_Store_${VOL.replace("-", "")}`), "");
    setup({ state, byId });
    const script = renderDataVolumeScript({
        volumeId: VOL,
        attempts: opts.attempts ?? 3,
        intervalSeconds: 4,
        byIdDir: byId,
        fstab,
        mountPoint: path.join(dir, "docker-volumes"),
    });
    const r = spawnSync("bash", ["-c", script], { env: { PATH: `${bin}:/usr/bin:/bin`, STATE: state }, encoding: "utf8", timeout: 30_000 });
    const log = readFileSync(path.join(state, "log"), "utf8");
    return { status: r.status, stderr: r.stderr, log, fstab: readFileSync(fstab, "utf8"), mountPoint: path.join(dir, "docker-volumes"), mounted: existsSync(path.join(state, "mounted")) };
}

describe("data volume script", () => {
    it("a blank volume (new host): formats it with the ops-data label, mounts it where Docker keeps its volumes, records it in fstab", () => {
        const r = run(() => {});
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /mkfs\.ext4 -q -L ops-data \S+nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0/);
        assert.match(r.log, /systemctl stop docker\.socket docker\.service\n(.*\n)*mount \S+docker-volumes\n(.*\n)*systemctl start docker\.service/);
        assert.match(r.fstab, /^UUID=0b5e7a1c-uuid \S+docker-volumes ext4 defaults,nofail,x-systemd\.device-timeout=300 0 2$/m);
        assert.ok(r.mounted);
    });
    it("a re-attached volume (replaced host): mounts it, never formats it", () => {
        const r = run(({ state }) => writeFileSync(path.join(state, "fstype"), "ext4\n"));
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.log, /mkfs/);
        assert.ok(r.mounted);
    });
    it("a volume with a signature but no filesystem: refuses to format, fails", () => {
        const r = run(({ state }) => writeFileSync(path.join(state, "signature"), ""));
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.log, /mkfs/);
        assert.match(r.stderr, /refusing to format/);
    });
    it("already mounted (a reboot): does nothing", () => {
        const r = run(({ state }) => writeFileSync(path.join(state, "mounted"), ""));
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.log, /mkfs|mount |systemctl stop/);
    });
    it("the volume never attaches: gives up after its attempts, Docker untouched", () => {
        const r = run(() => {}, { attached: false, attempts: 3 });
        assert.notEqual(r.status, 0);
        assert.equal(r.log.split("\n").filter((l) => l === "sleep 4").length, 3);
        assert.match(r.stderr, /vol-0123456789abcdef0 was not attached/);
        assert.doesNotMatch(r.log, /systemctl stop/);
    });
    it("production paths: Docker's volumes directory and the NVMe by-id links", () => {
        assert.equal(DATA_VOLUME_DEFAULTS.mountPoint, "/var/lib/docker/volumes");
        assert.equal(DATA_VOLUME_DEFAULTS.byIdDir, "/dev/disk/by-id");
        assert.throws(() => renderDataVolumeScript({ volumeId: "vol-x; rm -rf /" }), /volumeId = "vol-x; rm -rf \/": must be a vol-<hex> EBS volume id/);
    });
});
