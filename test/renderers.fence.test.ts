/**
 * The region fence (renderers/fence.ts): the record, the epoch rule, and the rendered gate and sync run with sh
 * (dash, as Debian's /bin/sh) against a temporary directory.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { peerFenceBucket, peerFenceReadStatements } from "../lib/fenceBuckets";
import { FENCE_DEFAULTS, Fence, fenceGateLines, isFenced, nextFence, parseFence, renderFence, renderFenceSync, winningFence } from "../renderers/fence";
import { renderSpiloEntrypoint } from "../renderers/patroni";
import { renderRedisStart, renderSentinelStart } from "../renderers/redis";

const AT = new Date("2026-11-29T13:00:00.123Z");
const fence = (epoch: number, primaryRegion: string): Fence => ({ epoch, primaryRegion, fencedRegion: primaryRegion === "us-west-2" ? "us-east-1" : "us-west-2", recordedAt: "2026-11-29T13:00:00Z" });

/**
 * A sync round stamped well after the gate starts. One second ahead raced: a loaded machine started `sh` in the
 * next second, the stamp equalled the start and the gate (rightly) waited for a later round (CI, stop 19).
 */
const LATER_ROUND_S = 3600;

function tmp(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "fence-test-"));
}

/** Runs the gate (as a start script has it) in `dir`; `checkedOffsetS` writes `checked` that many seconds from now. */
function runGate(dir: string, role: "primary" | "standby", opts: { checkedOffsetS?: number; waitS?: number } = {}) {
    if (opts.checkedOffsetS !== undefined) fs.writeFileSync(path.join(dir, "checked"), String(Math.floor(Date.now() / 1000) + opts.checkedOffsetS));
    const script = ["set -eu", "prog=test-gate", ...fenceGateLines({ region: "us-east-1", role, dir, waitS: opts.waitS ?? 3, fencedSleepS: 0 }), "echo STARTED"].join("\n");
    return spawnSync("sh", ["-c", script], { encoding: "utf8", timeout: 20_000 });
}

describe("fence record", () => {
    it("renders and parses back", () => {
        const f = nextFence([], "us-west-2", "us-east-1", AT);
        assert.deepEqual(f, { epoch: 1, primaryRegion: "us-west-2", fencedRegion: "us-east-1", recordedAt: "2026-11-29T13:00:00Z" });
        assert.deepEqual(parseFence(renderFence(f)), f);
    });

    it("the next epoch is one more than the highest found in either bucket", () => {
        assert.equal(nextFence([fence(3, "us-west-2"), undefined, fence(5, "us-east-1")], "us-west-2", "us-east-1", AT).epoch, 6);
    });

    it("the highest epoch decides; only a member rendered as a primary of another region is fenced", () => {
        const found = [fence(1, "us-west-2"), fence(2, "us-east-1")];
        assert.equal(winningFence(found)?.primaryRegion, "us-east-1");
        assert.equal(isFenced(found, "us-east-1", "primary"), false);
        assert.equal(isFenced(found, "us-west-2", "primary"), true);
        assert.equal(isFenced(found, "us-west-2", "standby"), false);
        assert.equal(isFenced([], "us-east-1", "primary"), false);
    });

    it("refuses a record naming the same region twice, and parses junk as no record", () => {
        assert.throws(() => nextFence([], "us-east-1", "us-east-1", AT), /fencedRegion = "us-east-1" is invalid: a region other than primaryRegion/);
        assert.equal(parseFence("<html>AccessDenied</html>"), undefined);
    });
});

describe("fence gate (sh)", () => {
    it("no record: starts", () => {
        const dir = tmp();
        const r = runGate(dir, "primary", { checkedOffsetS: LATER_ROUND_S });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /STARTED/);
    });

    it("a record naming another region: a primary member stays down, naming the fence and the runbook", () => {
        const dir = tmp();
        fs.writeFileSync(path.join(dir, "fence-us-west-2"), renderFence(fence(1, "us-west-2")));
        const r = runGate(dir, "primary", { checkedOffsetS: LATER_ROUND_S });
        assert.equal(r.status, 1);
        assert.doesNotMatch(r.stdout, /STARTED/);
        assert.match(r.stderr, /test-gate: FENCED: region us-west-2 is the primary since fence epoch 1 \(.*fence-us-west-2, object ops-center\/region-fence.txt of its WAL bucket\); this member of us-east-1 is rendered as a primary and stays down: rebuild us-east-1 as a standby of us-west-2 \(README "Region promotion", fail-back/);
    });

    it("the highest epoch wins: a later promotion back to this region lets it start", () => {
        const dir = tmp();
        fs.writeFileSync(path.join(dir, "fence-us-west-2"), renderFence(fence(1, "us-west-2")));
        fs.writeFileSync(path.join(dir, "fence-us-east-1"), renderFence(fence(2, "us-east-1")));
        const r = runGate(dir, "primary", { checkedOffsetS: LATER_ROUND_S });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /fence epoch 2 names us-east-1 the primary; this member of us-east-1 is rendered as primary: starting/);
    });

    it("a copy older than this start does not count: waits for a fresh sync round, then refuses to start", () => {
        const dir = tmp();
        const r = runGate(dir, "primary", { checkedOffsetS: -30, waitS: 2 });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /no fence sync round in .*checked newer than this start after 2 s .*fence-sync.*: not starting/);
    });

    it("a round stamped in the same second as this start does not count (it may have copied before the promotion): waits for a later one", () => {
        const dir = tmp();
        const r = runGate(dir, "primary", { checkedOffsetS: 0, waitS: 2 });
        assert.equal(r.status, 1, r.stdout);
        assert.doesNotMatch(r.stdout, /STARTED/);
        assert.match(r.stderr, /no fence sync round in .*checked newer than this start after 2 s/);
    });

    it("a member rendered as a standby has no gate", () => {
        assert.equal(fenceGateLines({ region: "us-east-1", role: "standby" }).filter((l) => !l.startsWith("#")).length, 0);
        const dir = tmp();
        fs.writeFileSync(path.join(dir, "fence-us-west-2"), renderFence(fence(1, "us-west-2")));
        assert.equal(runGate(dir, "standby").status, 0);
    });

    it("the Spilo entrypoint and the Redis and Sentinel start scripts run it before anything else", () => {
        const gate = fenceGateLines({ region: "us-east-1", role: "primary" }).join("\n");
        const spilo = renderSpiloEntrypoint({ fence: { region: "us-east-1", role: "primary" } });
        assert.ok(spilo.includes(gate) && spilo.indexOf(gate) < spilo.indexOf("read_secret PGPASSWORD_SUPERUSER") && spilo.indexOf(gate) < spilo.indexOf("exec /bin/sh /launch.sh"));
        const redis = renderRedisStart({ fence: { region: "us-east-1", role: "primary" } });
        assert.ok(redis.includes(gate) && redis.indexOf(gate) < redis.indexOf("exec redis-server"));
        const sentinel = renderSentinelStart({ fence: { region: "us-east-1", role: "primary" } });
        assert.ok(sentinel.includes(gate) && sentinel.indexOf(gate) < sentinel.indexOf("exec redis-sentinel"));
        assert.ok(!renderSpiloEntrypoint().includes("fence_dir"), "no gate unless asked");
        for (const s of [spilo, redis, sentinel]) assert.equal(spawnSync("sh", ["-n", "-c", s]).status, 0, "sh -n");
    });

    it("refuses bad input, naming the field", () => {
        assert.throws(() => fenceGateLines({ region: "useast1", role: "primary" }), /fence: region = "useast1" is invalid/);
        assert.throws(() => fenceGateLines({ region: "us-east-1", role: "primary", dir: "/x/../y" }), /fence: dir = /);
    });
});

describe("fence sync (sh)", () => {
    it("copies each source's record, removes a cleared one, keeps the last copy of an unreadable one, stamps checked", () => {
        const root = tmp();
        const dir = path.join(root, "fence");
        const own = path.join(root, "bucket-us-east-1");
        const peer = path.join(root, "bucket-us-west-2");
        fs.mkdirSync(own);
        fs.mkdirSync(path.join(peer, path.dirname(FENCE_DEFAULTS.key)), { recursive: true });
        fs.writeFileSync(path.join(peer, FENCE_DEFAULTS.key), renderFence(fence(1, "us-west-2")));
        const loop = renderFenceSync({ sources: [{ name: "us-east-1", kind: "dir", path: own }, { name: "us-west-2", kind: "dir", path: peer }], dir, intervalS: 1 });
        // One round: the loop's body with `sleep` replaced by an exit.
        const once = loop.replace(/\n {4}sleep 1\n/, "\n    exit 0\n");
        const t = Math.floor(Date.now() / 1000);
        let r = spawnSync("sh", ["-c", once], { encoding: "utf8", timeout: 10_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(parseFence(fs.readFileSync(path.join(dir, "fence-us-west-2"), "utf8"))?.primaryRegion, "us-west-2");
        assert.equal(fs.existsSync(path.join(dir, "fence-us-east-1")), false);
        assert.ok(Number(fs.readFileSync(path.join(dir, "checked"), "utf8")) >= t);
        // The stamp is the time the round began, taken before its first copy: a gate that sees a stamp later than its
        // own start knows the copies were made after it started.
        const body = loop.slice(loop.indexOf("while :; do"));
        assert.ok(/round_t=\$\(date \+%s\)/.test(body) && body.indexOf("round_t=$(date +%s)") < body.indexOf("tmp="), "the round's time is taken before the first copy");
        assert.match(body, /echo "\$round_t" > "\$dir\/\.checked\.tmp" && mv -f "\$dir\/\.checked\.tmp" "\$dir\/checked"/);
        // The peer bucket unreadable: the copy stays.
        fs.renameSync(peer, `${peer}.gone`);
        r = spawnSync("sh", ["-c", once], { encoding: "utf8", timeout: 10_000 });
        assert.match(r.stderr, /bucket-us-west-2\/ops-center\/region-fence.txt: unreadable/);
        assert.ok(fs.existsSync(path.join(dir, "fence-us-west-2")));
        // Cleared (the object deleted): the copy goes.
        fs.renameSync(`${peer}.gone`, peer);
        fs.rmSync(path.join(peer, FENCE_DEFAULTS.key));
        r = spawnSync("sh", ["-c", once], { encoding: "utf8", timeout: 10_000 });
        assert.equal(fs.existsSync(path.join(dir, "fence-us-west-2")), false);
    });

    it("reads S3 with the AWS CLI, telling NoSuchKey (no record) from any other error", () => {
        const s = renderFenceSync({ sources: [{ name: "us-west-2", kind: "s3", bucket: "ops-center-ha-us-west-2-wal-123456789012", region: "us-west-2" }] });
        assert.match(s, /bounded aws s3api get-object --cli-connect-timeout 5 --cli-read-timeout 10 --region 'us-west-2' --bucket 'ops-center-ha-us-west-2-wal-123456789012' --key 'ops-center\/region-fence.txt' "\$tmp"/);
        assert.match(s, /grep -q NoSuchKey/);
        assert.match(s, /export AWS_MAX_ATTEMPTS=2 AWS_RETRY_MODE=standard\n.*timeout 30 "\$@"/, "a dead region's S3 cannot hold up a round");
        assert.equal(spawnSync("sh", ["-n", "-c", s]).status, 0);
    });
});

describe("fence buckets", () => {
    it("the peer's WAL bucket: from primaryStack in a region built as a standby, else from peerRegion", () => {
        assert.deepEqual(peerFenceBucket({ primaryStack: "acme/ops-center-ha/us-east-1", peerRegion: "us-east-1" }, "123456789012"), { region: "us-east-1", bucket: "ops-center-ha-us-east-1-wal-123456789012" });
        assert.deepEqual(peerFenceBucket({ peerRegion: "us-west-2" }, "123456789012"), { region: "us-west-2", bucket: "ops-center-ha-us-west-2-wal-123456789012" });
        assert.equal(peerFenceBucket({}, "123456789012"), undefined);
    });

    it("a data host may read the peer's record only: ListBucket on its prefix, GetObject on its key, Decrypt through S3 for that bucket", () => {
        const st = peerFenceReadStatements({ region: "us-west-2", bucket: "b-wal-123456789012" });
        assert.deepEqual(st.map((s) => s.Resource), ["arn:aws:s3:::b-wal-123456789012", "arn:aws:s3:::b-wal-123456789012/ops-center/region-fence.txt", "*"]);
        assert.deepEqual((st[2].Condition as Record<string, unknown>).StringEquals, { "kms:ViaService": "s3.us-west-2.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b-wal-123456789012" });
    });
});
