import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CONFIG_KEYS, declaredDefault } from "../config/keys";
import { ConfigError, RawConfig, validateConfig } from "../config/validate";
import { offlineStandbyCredentials } from "../config/standbyCredentials";
import { readStackConfig } from "../offline/engine";
import { ROOT, STACKS } from "./harness";

/** A raw config from a stack file with some keys changed (undefined removes a key). */
function rawFor(stack: string, changes: Record<string, string | undefined> = {}, region?: string): RawConfig {
    const { values } = readStackConfig(ROOT, stack);
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (k.startsWith("ops-center-ha:")) own[k.slice(14)] = v;
    for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) delete own[k];
        else own[k] = v;
    }
    return { stack, region: region ?? values["aws:region"], keys: Object.keys(own), get: (k) => own[k] };
}

/** Asserts that validation fails with a problem naming the key, the bad value and `allowed`. */
function rejects(stack: string, changes: Record<string, string | undefined>, key: string, allowed: RegExp, region?: string) {
    try {
        validateConfig(rawFor(stack, changes, region));
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        const line = e.problems.find((p) => p.includes(key));
        assert.ok(line, `no problem names ${key}: ${e.problems.join(" | ")}`);
        const bad = changes[key.replace(/^.*:/, "")];
        if (bad !== undefined) assert.ok(line.includes(JSON.stringify(bad)), `problem does not quote the bad value ${bad}: ${line}`);
        assert.match(line, allowed);
        return;
    }
    assert.fail(`config with ${JSON.stringify(changes)} was accepted`);
}

describe("config: the stack files", () => {
    for (const stack of STACKS) {
        it(`${stack} validates`, () => {
            const cfg = validateConfig(rawFor(stack));
            assert.equal(cfg.region, stack);
        });
    }
    it("us-east-1 is the primary, us-west-2 the standby following it", () => {
        assert.equal(validateConfig(rawFor("us-east-1")).role, "primary");
        const standby = validateConfig(rawFor("us-west-2"));
        assert.equal(standby.role, "standby");
        assert.equal(standby.primaryStack, "acme/ops-center-ha/us-east-1");
    });
    it("both regions run 3 Postgres members, one per data host (issue 10: the double failure)", () => {
        for (const stack of STACKS) assert.equal(validateConfig(rawFor(stack)).postgres.members, 3, stack);
    });
    it("no image is unpinned or latest, and no secret is in plain text", () => {
        for (const stack of STACKS) {
            const text = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
            assert.doesNotMatch(text, /:latest\b/);
            const config = parse(text).config as Record<string, unknown>;
            for (const spec of CONFIG_KEYS.filter((c) => c.secret)) {
                const v = config[`ops-center-ha:${spec.key}`];
                if (v !== undefined) assert.ok(typeof v === "object" && v !== null && "secure" in v, `${spec.key} is in plain text in Pulumi.${stack}.yaml`);
            }
            assert.doesNotMatch(text, /(password|token|auth_pass|privateKey)\w*:\s*[^\s{]/i);
        }
    });
    it("Pulumi.yaml declares exactly the keys the program reads, with their types and defaults", () => {
        const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        assert.equal(project.name, "ops-center-ha");
        assert.deepEqual(project.runtime, { name: "nodejs", options: { typescript: true, packagemanager: "npm" } });
        assert.deepEqual(Object.keys(project.config).sort(), CONFIG_KEYS.map((k) => k.key).sort());
        for (const spec of CONFIG_KEYS) {
            const decl = project.config[spec.key];
            // A structured ("object") key is declared untyped: the engine checks only explicitly typed keys.
            assert.equal(decl.type, spec.type === "object" ? undefined : spec.type, spec.key);
            assert.equal(decl.description, spec.description, spec.key);
            // Optional keys and secrets declare "" (unset): the engine requires a project key with no default.
            assert.equal(decl.default, declaredDefault(spec), spec.key);
            // Never `secret: true`: the engine would reject the "" default as a plain value (validate.ts checks secretness).
            assert.equal(decl.secret, undefined, spec.key);
        }
    });
});

describe("config: every rule rejects a bad value with the key, the value and what is allowed", () => {
    const P = "us-east-1";
    const S = "us-west-2";
    const cases: [string, string, Record<string, string | undefined>, string, RegExp][] = [
        ["role must be primary or standby", P, { role: "leader" }, "role", /one of primary, standby/],
        ["a standby names its primary stack", S, { primaryStack: undefined }, "primaryStack", /required when role is standby/],
        ["primaryStack is org/project/stack", S, { primaryStack: "us-east-1" }, "primaryStack", /org\/project\/stack/],
        ["a promoted standby's primaryStack is still org/project/stack", S, { role: "primary", primaryStack: "us-east-1" }, "primaryStack", /org\/project\/stack/],
        ["a region built as a standby holds the primary's passwords", S, { standbyCredentials: undefined }, "standbyCredentials", /npm run promote -- copy-credentials us-west-2/],
        ["a promoted standby still holds them", S, { role: "primary", standbyCredentials: undefined }, "standbyCredentials", /required when primaryStack is set/],
        ["a region that never was a standby needs two edge hosts", P, { edgeNodes: "1" }, "edgeNodes", /from 2 to 50 in a region built as primary/],
        ["frontend x3 in a primary", P, { frontendReplicas: "2" }, "frontendReplicas", /from 3 to 50/],
        ["backend x3 in a primary", P, { backendReplicas: "1" }, "backendReplicas", /from 3 to 50/],
        ["replicas are integers", P, { backendReplicas: "3.5" }, "backendReplicas", /integer/],
        ["replicas are positive in a standby", S, { frontendReplicas: "0" }, "frontendReplicas", /from 1 to 50/],
        ["sentinels are odd", P, { redisSentinels: "4" }, "redisSentinels", /odd/],
        ["sentinels are at least 3", P, { redisSentinels: "1" }, "redisSentinels", /from 3 to 9/],
        ["quorum is a majority", P, { redisQuorum: "1" }, "redisQuorum", /majority of the 3 sentinels: from 2 to 3/],
        ["quorum is not more than the sentinels", P, { redisQuorum: "4" }, "redisQuorum", /majority/],
        ["etcd members are odd", P, { etcdMembers: "4" }, "etcdMembers", /odd/],
        ["a primary runs 3 Postgres members (a double failure loses no acknowledged write)", P, { postgresMembers: "2" }, "postgresMembers", /from 3 to 5 in a region built as primary/],
        ["a standby runs at least 2 Postgres members", S, { postgresMembers: "1" }, "postgresMembers", /from 2 to 5/],
        ["Postgres members never share a data host", P, { postgresMembers: "4" }, "postgresMembers", /at most one per data host: 3 data hosts \(dataNodes\)/],
        ["Postgres members never share an existing Swarm's data host", P, { postgresMembers: "4", existingSwarmHost: "unix:///var/run/docker.sock", existingSwarmDataHosts: "a,b,c" }, "postgresMembers", /at most one per data host: 3 data hosts \(existingSwarmDataHosts\)/],
        ["postgresRollLast names a member of this region", P, { postgresRollLast: "pg-4" }, "postgresRollLast", /one Patroni member of this region: pg-1, pg-2, pg-3/],
        ["postgresRollLast is a member's service name, not its Patroni name", S, { postgresRollLast: "us-west-2-pg-1" }, "postgresRollLast", /pg-1, pg-2, pg-3/],
        ["vpcCidr is a CIDR", P, { vpcCidr: "10.10.0.0" }, "vpcCidr", /IPv4 CIDR/],
        ["vpcCidr has no host bits", P, { vpcCidr: "10.10.1.0/16" }, "vpcCidr", /no host bits/],
        ["vpcCidr is /16 to /24", P, { vpcCidr: "10.0.0.0/8" }, "vpcCidr", /\/16 to \/24/],
        ["the regions' CIDRs do not overlap", P, { peerVpcCidr: "10.10.128.0/17" }, "peerVpcCidr", /must not overlap vpcCidr/],
        ["a standby knows the primary's CIDR", S, { peerVpcCidr: undefined }, "peerVpcCidr", /required when role is standby/],
        ["SSH is not open to the world", P, { adminCidr: "0.0.0.0/0" }, "adminCidr", /prefix from \/8/],
        ["instance types are not empty", P, { appInstanceType: "" }, "appInstanceType", /must not be empty/],
        ["instance types are well formed", P, { dataInstanceType: "large" }, "dataInstanceType", /EC2 instance type/],
        ["the AMI parameter is a path", P, { amiSsmParameter: "debian-12" }, "amiSsmParameter", /SSM parameter path/],
        ["the domain is a DNS name", P, { domain: "Ops Example" }, "domain", /DNS name/],
        ["the zone id is required", P, { hostedZoneId: undefined }, "hostedZoneId", /is required/],
        ["the zone id is a Route53 id", P, { hostedZoneId: "example.com" }, "hostedZoneId", /hosted zone id/],
        ["the health-check interval is 10 or 30", P, { healthCheckInterval: "5" }, "healthCheckInterval", /10 or 30/],
        ["the DNS TTL is in range", P, { dnsTtl: "5" }, "dnsTtl", /from 30 to 300/],
        ["Patroni ttl is at least 20", P, { patroniTtl: "10" }, "patroniTtl", /from 20 to 300/],
        ["loop_wait + 2*retry_timeout <= ttl", P, { patroniRetryTimeout: "10" }, "patroniRetryTimeout", /loop_wait \+ 2\*retry_timeout <= ttl/],
        ["archive_timeout keeps RPO under 5 minutes", P, { archiveTimeout: "1800" }, "archiveTimeout", /from 30 to 300/],
        ["down-after-milliseconds is in range", P, { redisDownAfterMs: "100" }, "redisDownAfterMs", /from 1000 to 60000/],
        ["keepalived priority is in range", P, { keepalivedPriority: "255" }, "keepalivedPriority", /from 51 to 254/],
        ["the active colour is blue or green", P, { activeColor: "red" }, "activeColor", /one of blue, green/],
        ["images are pinned", P, { backendImage: "kubeworkz/ops_center:latest" }, "backendImage", /pinned/],
        ["images have a tag", P, { frontendImage: "kubeworkz/ops_center" }, "frontendImage", /pinned/],
        ["Traefik is v3", P, { traefikImage: "traefik:v2.11.0" }, "traefikImage", /v3/],
        ["tlsMode is dns01 or certificate", P, { tlsMode: "http01" }, "tlsMode", /one of dns01, certificate/],
        ["certificate mode needs the certificate", P, { tlsMode: "certificate" }, "tlsCertificate", /required .* when tlsMode is certificate/],
        ["cloudflare needs a zone id", P, { cloudflareEnabled: "true" }, "cloudflareZoneId", /required when cloudflareEnabled/],
        ["booleans are true or false", P, { cloudflareEnabled: "yes" }, "cloudflareEnabled", /true or false/],
        ["an existing Swarm host is a Docker host URL", P, { existingSwarmHost: "manager-1" }, "existingSwarmHost", /ssh:\/\/user@host/],
        ["a primary has 2 edge hosts for the VIP pair", P, { edgeNodes: "1" }, "edgeNodes", /from 2 to 50/],
        ["an existing Swarm names its data hosts", P, { existingSwarmHost: "unix:///var/run/docker.sock" }, "existingSwarmDataHosts", /required with existingSwarmHost/],
        ["an existing Swarm has at least 3 data hosts", P, { existingSwarmHost: "unix:///var/run/docker.sock", existingSwarmDataHosts: "a,b" }, "existingSwarmDataHosts", /at least 3 distinct hostnames/],
        ["an existing Swarm serves a primary region only", S, { existingSwarmHost: "unix:///var/run/docker.sock", existingSwarmDataHosts: "a,b,c" }, "existingSwarmHost", /only supported in a primary region/],
        ["rollHost names one host of this stack", P, { rollHost: "app-3" }, "rollHost", /one host of this stack: edge-0\.\.edge-1, app-0\.\.app-2, data-0\.\.data-2/],
        ["rollHost is not used with an existing Swarm", P, { rollHost: "app-1", existingSwarmHost: "unix:///var/run/docker.sock", existingSwarmDataHosts: "a,b,c" }, "rollHost", /not with existingSwarmHost/],
        ["zones are chosen once: required with EC2 hosts", P, { availabilityZones: undefined }, "availabilityZones", /required with the EC2 hosts .*pulumi config set availabilityZones us-east-1a,us-east-1b,us-east-1c/],
        ["zones are zones of the stack's region", P, { availabilityZones: "us-east-1a,us-east-1b,us-west-2c" }, "availabilityZones", /"us-west-2c" is not a zone of us-east-1/],
        ["zones are listed once each", P, { availabilityZones: "us-east-1a,us-east-1b,us-east-1a" }, "availabilityZones", /must not list a zone twice/],
        ["zones match availabilityZoneCount", P, { availabilityZones: "us-east-1a,us-east-1b,us-east-1c,us-east-1d" }, "availabilityZones", /exactly availabilityZoneCount \(3\) zones/],
        ["data volumes are 20 GiB to gp3's 16 TiB", P, { dataVolumeGb: "10" }, "dataVolumeGb", /an integer from 20 to 16384/],
        ["hostAmis are host=ami-id pairs", P, { hostAmis: "data-2:ami-0123456789abcdef0" }, "hostAmis", /<host>=<ami-id> pairs/],
        ["hostAmis name hosts of this stack", P, { hostAmis: "data-3=ami-0123456789abcdef0" }, "hostAmis", /names data-3, not a host of this stack/],
        ["hostAmis list a host once", P, { hostAmis: "app-1=ami-0123456789abcdef0,app-1=ami-0fedcba9876543210" }, "hostAmis", /lists app-1 twice/],
        ["unknown keys are typos", P, { frontendReplica: "3" }, "frontendReplica", /not a key this program reads/],
        ["the alert webhook is required, as a secret", P, { alertWebhookUrl: undefined }, "alertWebhookUrl", /pulumi config set --secret alertWebhookUrl <value> --stack us-east-1/],
    ];
    for (const [title, stack, changes, key, allowed] of cases) {
        it(title, () => rejects(stack, changes, key, allowed));
    }
    it("promotion is one change: the standby's config with only role flipped validates, keeping its sizes", () => {
        const cfg = validateConfig(rawFor(S, { role: "primary" }));
        assert.equal(cfg.role, "primary");
        assert.equal(cfg.builtAs, "standby");
        assert.equal(cfg.primaryStack, "acme/ops-center-ha/us-east-1");
        assert.equal(cfg.hosts.pools.edge.count, 1);
        assert.equal(cfg.frontend.replicas, 1);
    });
    it("standbyCredentials: a region built as primary may hold them too (a promoted region that dropped primaryStack keeps its passwords)", () => {
        const cfg = validateConfig(rawFor(P, { standbyCredentials: offlineStandbyCredentials() }));
        assert.equal(cfg.builtAs, "primary");
    });
    it("standbyCredentials: each password checked, none quoted", () => {
        for (const [value, want] of [
            ["not json", /is not JSON/],
            ['{"pgSuperuser":"short"}', /pgSuperuser must be 16-128 letters or digits/],
        ] as const) {
            assert.throws(
                () => validateConfig(rawFor(S, { standbyCredentials: value })),
                (e: unknown) => e instanceof ConfigError && e.problems.some((p) => want.test(p) && !p.includes("short") && !p.includes("not json")),
            );
        }
    });
    it("an optional key's declared \"\" default means unset, and then its own rule applies", () => {
        assert.throws(() => validateConfig(rawFor(S, { primaryStack: "" })), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /primaryStack is required when role is standby/.test(p)));
        assert.equal(validateConfig(rawFor(P, { primaryStack: "", sshKeyName: "" })).hosts.sshKeyName, undefined);
    });
    it("a secret set in plain text is rejected, without quoting it", () => {
        const raw = rawFor(P, { alertWebhookUrl: "https://hooks.example.com/T0/very-secret" });
        assert.throws(
            () => validateConfig({ ...raw, isSecret: (k) => k !== "alertWebhookUrl" }),
            (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /alertWebhookUrl is set in plain text: .*pulumi config set --secret alertWebhookUrl/.test(p)) && !e.message.includes("very-secret"),
        );
        assert.doesNotThrow(() => validateConfig({ ...raw, isSecret: () => true }));
    });
    it("the AWS region is checked", () => rejects(P, {}, "aws:region", /AWS region/, "useast1"));
    it("every problem is reported at once", () => {
        assert.throws(
            () => validateConfig(rawFor(P, { frontendReplicas: "1", redisSentinels: "2", vpcCidr: "x" })),
            (e: unknown) => e instanceof ConfigError && e.problems.length >= 3,
        );
    });
});

describe("config: generated documentation", () => {
    it("README's config table is up to date (npm run docs:config)", async () => {
        const { configTable } = await import("../scripts/configTable");
        assert.ok(fs.readFileSync(path.join(ROOT, "README.md"), "utf8").includes(configTable()), "README.md config table is stale: run npm run docs:config");
    });
});
