/**
 * The `restore` config key (config/restore.ts): a happy-path value, then one changed field per failing case;
 * every error names `ops-center-ha:restore.<field>`, the bad value and what is allowed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bucketNameProblem, parseRestore, parseRfc3339, RestoreContext, restoredScope } from "../config/restore";
import { ConfigError, validateConfig } from "../config/validate";
import { readStackConfig } from "../offline/engine";
import { ROOT } from "./harness";

const KEY = "ops-center-ha:restore";
const NOW = Date.parse("2026-11-29T15:00:00Z");
const ctx: RestoreContext = { region: "us-east-1", role: "primary", defaultScope: "ops-center", now: NOW };
const good = () => ({
    fromBucket: "ops-center-ha-us-east-1-wal-123456789012",
    targetTime: "2026-11-29T14:01:00Z",
    kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/0b5c1e2a-1111-4222-8333-944455556666",
});

function parse(value: unknown, c: RestoreContext = ctx) {
    const problems: string[] = [];
    const r = parseRestore(KEY, typeof value === "string" ? value : JSON.stringify(value), c, problems);
    return { r, problems };
}

/** One changed field: rejected with a line naming the field, quoting the bad value, and saying what is allowed. */
function rejects(changes: Record<string, unknown>, field: string, allowed: RegExp, c: RestoreContext = ctx) {
    const { r, problems } = parse({ ...good(), ...changes }, c);
    assert.equal(r, undefined, `accepted ${JSON.stringify(changes)}`);
    const line = problems.find((p) => p.startsWith(`${KEY}${field ? "." + field : ""}`));
    assert.ok(line, `no problem names ${KEY}.${field}: ${problems.join(" | ")}`);
    const bad = changes[field];
    if (typeof bad === "string" && bad !== "") assert.ok(line.includes(JSON.stringify(bad)), `does not quote ${bad}: ${line}`);
    assert.match(line, allowed);
}

describe("restore config: the happy path", () => {
    it("defaults: fromRegion = this region, bucketRegion = fromRegion, fromScope = ops-center; the new scope is named after the target", () => {
        const { r, problems } = parse(good());
        assert.deepEqual(problems, []);
        assert.deepEqual(r, {
            ...good(),
            fromRegion: "us-east-1",
            bucketRegion: "us-east-1",
            fromScope: "ops-center",
            redisRdbKey: undefined,
            scope: "ops-center-r20261129140100",
        });
    });
    it("full-site recovery into us-west-2 from the replicated bucket: path region us-east-1, bucket and key in us-west-2", () => {
        const { r, problems } = parse(
            { ...good(), fromBucket: "ops-center-ha-us-west-2-wal-123456789012", fromRegion: "us-east-1", bucketRegion: "us-west-2",
              kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/mrk-0123456789abcdef0123456789abcdef", redisRdbKey: "redis/us-east-1/dump-20261129T130000Z.rdb" },
            { ...ctx, region: "eu-west-1" },
        );
        assert.deepEqual(problems, []);
        assert.equal(r?.fromRegion, "us-east-1");
        assert.equal(r?.bucketRegion, "us-west-2");
        assert.equal(r?.redisRdbKey, "redis/us-east-1/dump-20261129T130000Z.rdb");
    });
    it("an offset other than Z names the same instant (and so the same scope)", () => {
        assert.equal(parse({ ...good(), targetTime: "2026-11-29T15:01:00+01:00" }).r?.scope, "ops-center-r20261129140100");
        assert.equal(restoredScope("ops-center", parseRfc3339("2026-11-29T14:01:00.250Z")!), "ops-center-r20261129140100");
    });
});

describe("restore config: one changed field per failure", () => {
    it("not JSON / not an object", () => {
        const a = parse("s3://bucket");
        assert.match(a.problems[0], /^ops-center-ha:restore = "s3:\/\/bucket": must be an object/);
        assert.match(parse("[1]").problems[0], /must be an object/);
    });
    it("unknown field", () => rejects({ bucket: "x" }, "bucket", /is not a field of restore; allowed: fromBucket, targetTime, kmsKeyArn/));
    it("fromBucket missing", () => rejects({ fromBucket: undefined }, "fromBucket", /is required when restore is set/));
    it("fromBucket with upper case", () => rejects({ fromBucket: "Ops-Backups" }, "fromBucket", /lower-case letters, digits/));
    it("fromBucket too short", () => rejects({ fromBucket: "ab" }, "fromBucket", /3 to 63 characters/));
    it("fromBucket like an IP address", () => rejects({ fromBucket: "192.168.5.4" }, "fromBucket", /IP address/));
    it("fromBucket with adjacent dots", () => rejects({ fromBucket: "a..b" }, "fromBucket", /adjacent dots/));
    it("fromBucket with a reserved prefix / suffix", () => {
        rejects({ fromBucket: "xn--backups" }, "fromBucket", /reserved prefix xn--/);
        rejects({ fromBucket: "backups-s3alias" }, "fromBucket", /reserved suffix -s3alias/);
    });
    it("fromBucket not a string", () => rejects({ fromBucket: 7 }, "fromBucket", /must be a string/));
    it("targetTime without an offset", () => rejects({ targetTime: "2026-11-29T14:01:00" }, "targetTime", /RFC 3339 .* offset/));
    it("targetTime without seconds", () => rejects({ targetTime: "2026-11-29T14:01Z" }, "targetTime", /RFC 3339/));
    it("targetTime on a day that does not exist", () => rejects({ targetTime: "2026-02-30T14:01:00Z" }, "targetTime", /RFC 3339/));
    it("targetTime in the future", () => rejects({ targetTime: "2026-11-29T15:00:01Z" }, "targetTime", /must not be in the future/));
    it("kmsKeyArn an alias", () => rejects({ kmsKeyArn: "alias/ops-center-ha-us-east-1-wal" }, "kmsKeyArn", /KMS key ARN .*aliases are not allowed/));
    it("kmsKeyArn in another region than the bucket", () =>
        rejects({ kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/0b5c1e2a-1111-4222-8333-944455556666" }, "kmsKeyArn", /bucket's region us-east-1/));
    it("fromRegion not a region", () => rejects({ fromRegion: "east" }, "fromRegion", /AWS region/));
    it("bucketRegion not a region", () => rejects({ bucketRegion: "US-EAST-1" }, "bucketRegion", /AWS region/));
    it("fromScope not a scope", () => rejects({ fromScope: "Ops_Center" }, "fromScope", /Patroni scope/));
    it("redisRdbKey not an .rdb key", () => {
        rejects({ redisRdbKey: "/redis/dump.rdb" }, "redisRdbKey", /without a leading \//);
        rejects({ redisRdbKey: "redis/dump.aof" }, "redisRdbKey", /ending in \.rdb/);
    });
    it("a standby region does not restore", () => {
        const { r, problems } = parse(good(), { ...ctx, role: "standby" });
        assert.equal(r, undefined);
        assert.match(problems.join("\n"), /ops-center-ha:restore is set on a region whose role is standby: only a primary region restores/);
    });
    it("bucket rule helper: a good name has no problem", () => assert.equal(bucketNameProblem("ops-center-ha-us-east-1-wal-123456789012"), undefined));
});

describe("restore config through validateConfig (the stack's own config)", () => {
    const raw = (restore: string | undefined, stack = "us-east-1") => {
        const { values } = readStackConfig(ROOT, stack);
        const own: Record<string, string> = {};
        for (const [k, v] of Object.entries(values)) if (k.startsWith("ops-center-ha:")) own[k.slice(14)] = v;
        if (restore !== undefined) own.restore = restore;
        return { stack, region: values["aws:region"], keys: Object.keys(own), get: (k: string) => own[k], now: NOW };
    };
    it("unset (Pulumi.yaml's default \"\") is no restore", () => assert.equal(validateConfig(raw(undefined)).restore, undefined));
    it("set: the typed value reaches HaConfig", () => assert.equal(validateConfig(raw(JSON.stringify(good()))).restore?.scope, "ops-center-r20261129140100"));
    it("a bad field fails before any resource, naming the key", () => {
        assert.throws(() => validateConfig(raw(JSON.stringify({ ...good(), targetTime: "yesterday" }))), (e: unknown) =>
            e instanceof ConfigError && e.problems.some((p) => p.startsWith('ops-center-ha:restore.targetTime = "yesterday": must be an RFC 3339')));
    });
    it("the standby stack refuses it", () => {
        assert.throws(() => validateConfig(raw(JSON.stringify(good()), "us-west-2")), (e: unknown) =>
            e instanceof ConfigError && e.problems.some((p) => p.includes("only a primary region restores")));
    });
});

describe("restore config through the engine's merge (a structured value in the stack file)", () => {
    it("pulumi config set --path restore.* writes an object; the engine hands it over as JSON text and our validator reads it", async () => {
        const fs = await import("node:fs");
        const path = await import("node:path");
        const { mergeProjectConfig, readProjectConfig, readStackConfigFile } = await import("../offline/projectConfig");
        const stackText = fs.readFileSync(path.join(ROOT, "Pulumi.us-east-1.yaml"), "utf8");
        const g = good();
        const withRestore = `${stackText.trimEnd()}\n  ops-center-ha:restore:\n    fromBucket: ${g.fromBucket}\n    targetTime: "${g.targetTime}"\n    kmsKeyArn: ${g.kmsKeyArn}\n`;
        const { values } = mergeProjectConfig("us-east-1", readProjectConfig(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")), readStackConfigFile(withRestore));
        assert.deepEqual(JSON.parse(values["ops-center-ha:restore"]), g);
        values["ops-center-ha:alertWebhookUrl"] = "offline-stand-in";
        const cfg = validateConfig({ stack: "us-east-1", region: "us-east-1", get: (k) => values[`ops-center-ha:${k}`], now: NOW });
        assert.equal(cfg.restore?.fromBucket, g.fromBucket);
    });
});
