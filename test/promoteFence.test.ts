/**
 * `npm run promote -- fence <stack>` (scripts/promote.ts `recordFence`, also run by the promotion itself), end to end
 * with stand-ins on PATH: `pulumi` answers the stack output fenceBuckets, `aws s3 cp` reads and writes a local
 * directory per bucket (a bucket marked down answers as an unreachable endpoint, a missing key as S3's 404).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { FENCE_DEFAULTS, parseFence } from "../renderers/fence";

const ROOT = path.resolve(__dirname, "..");
const OWN = { region: "us-west-2", bucket: "ops-center-ha-us-west-2-wal-123456789012" };
const PEER = { region: "us-east-1", bucket: "ops-center-ha-us-east-1-wal-123456789012" };

function setup() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promote-fence-"));
    const bin = path.join(dir, "bin");
    const s3 = path.join(dir, "s3");
    fs.mkdirSync(bin);
    fs.mkdirSync(s3);
    fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\n[ "$1 $2 $3" = "stack output fenceBuckets" ] || { echo "unexpected: $*" >&2; exit 2; }\nprintf '%s\\n' '${JSON.stringify({ own: OWN, peer: PEER })}'\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "aws"), [
        "#!/bin/sh",
        'src=; dst=',
        'for a in "$@"; do case "$a" in s3://* | -) if [ -z "$src" ]; then src=$a; else dst=$a; fi ;; esac; done',
        'url=$src; [ "$src" = - ] && url=$dst',
        'b=${url#s3://}; key=${b#*/}; b=${b%%/*}',
        `root='${s3}'`,
        'if [ -e "$root/$b.down" ]; then echo "Could not connect to the endpoint URL: https://$b.s3.amazonaws.com/$key" >&2; exit 1; fi',
        'f="$root/$b/$key"',
        'if [ "$dst" = - ]; then',
        '    [ -f "$f" ] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key \\"$key\\" does not exist" >&2; exit 1; }',
        '    cat "$f"',
        'else',
        '    mkdir -p "$(dirname "$f")" && cat > "$f"',
        'fi',
        "",
    ].join("\n"), { mode: 0o755 });
    const run = () => spawnSync(process.execPath, ["--import", "tsx", "scripts/promote.ts", "fence", "acme/ops-center-ha/us-west-2"], {
        cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    const record = (b: { bucket: string }) => {
        const f = path.join(s3, b.bucket, FENCE_DEFAULTS.key);
        return fs.existsSync(f) ? parseFence(fs.readFileSync(f, "utf8")) : undefined;
    };
    return { s3, run, record, down: (b: { bucket: string }) => fs.writeFileSync(path.join(s3, `${b.bucket}.down`), ""), up: (b: { bucket: string }) => fs.rmSync(path.join(s3, `${b.bucket}.down`)) };
}

describe("npm run promote -- fence", () => {
    it("the old region dead: writes epoch 1 naming this region into this region's bucket, warns with the retry command", () => {
        const t = setup();
        t.down(PEER);
        const r = t.run();
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual({ ...t.record(OWN), recordedAt: "" }, { epoch: 1, primaryRegion: "us-west-2", fencedRegion: "us-east-1", recordedAt: "" });
        assert.match(r.stderr, /the peer region's fence record is unreadable \(Could not connect/);
        assert.match(r.stderr, /could not write the fence to the peer region's bucket s3:\/\/ops-center-ha-us-east-1-wal-123456789012 .*once us-east-1's S3 answers, run: npm run promote -- fence acme\/ops-center-ha\/us-west-2/);
        // Once the old region answers: the next epoch, into both buckets.
        t.up(PEER);
        const again = t.run();
        assert.equal(again.status, 0, again.stderr);
        assert.equal(t.record(OWN)?.epoch, 2);
        assert.deepEqual(t.record(PEER), t.record(OWN));
    });

    it("the epoch follows the highest record of either bucket (a fail-back outranks the earlier promotion)", () => {
        const t = setup();
        fs.mkdirSync(path.join(t.s3, PEER.bucket, path.dirname(FENCE_DEFAULTS.key)), { recursive: true });
        fs.writeFileSync(path.join(t.s3, PEER.bucket, FENCE_DEFAULTS.key), "epoch=4\nprimary_region=us-east-1\nfenced_region=us-west-2\nrecorded_at=2026-11-29T10:00:00Z\n");
        assert.equal(t.run().status, 0);
        assert.equal(t.record(OWN)?.epoch, 5);
        assert.equal(t.record(OWN)?.primaryRegion, "us-west-2");
    });

    it("this region's bucket unreadable: refuses, naming it (nothing is written anywhere)", () => {
        const t = setup();
        t.down(OWN);
        const r = t.run();
        assert.equal(r.status, 1);
        assert.match(r.stderr, /promote: cannot read this region's fence record \(s3:\/\/ops-center-ha-us-west-2-wal-123456789012\): Could not connect/);
        assert.equal(t.record(PEER), undefined);
    });
});
