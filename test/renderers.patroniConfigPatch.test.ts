/**
 * Issue 10 item 1: Patroni reads bootstrap.dcs once; promotion and later DCS changes reach the live cluster as a
 * PATCH /config body computed from the deployed config (renderers/patroniConfigPatch.ts), sent over the Docker
 * provider's SSH path (lib/promotion.ts, scripts/promote.ts).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { bootstrapDcs, dcsPatch, JsonObject, promotedDcs, promotionPatch } from "../renderers/patroniConfigPatch";
import { patroniDcsSection, patroniSettings, renderSpiloConfiguration, SpiloMemberInput } from "../renderers/patroni";
import { inspectEnv, onManager, onNode, patroniRequest, REDIS_PROMOTE_COMMANDS, redisPromoteRequest, runningNodeAddress, sshTarget } from "../lib/promotion";
import { REDIS_DEFAULTS } from "../renderers/redisDefaults";
import { offlineStandbyCredentials, parseStandbyCredentials, standbyCredentialsFromOutputs } from "../config/standbyCredentials";

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as JsonObject;
const SOURCE = { host: "10.10.1.10,10.10.2.10", port: 5000, createReplicaMethods: ["basebackup"] as const };
const standbyDcs = () => json(patroniDcsSection(patroniSettings(), { ...SOURCE, createReplicaMethods: [...SOURCE.createReplicaMethods] }));
const primaryDcs = () => json(patroniDcsSection(patroniSettings()));

describe("PATCH /config: promotion", () => {
    it("a live standby cluster promoted by the deployed config: exactly {standby_cluster: null}", () => {
        assert.deepEqual(dcsPatch(standbyDcs(), primaryDcs()), { standby_cluster: null });
    });
    it("promotedDcs drops standby_cluster from what the standby deployed, nothing else", () => {
        const p = promotedDcs(standbyDcs());
        assert.equal("standby_cluster" in p, false);
        assert.deepEqual(p, primaryDcs());
        assert.deepEqual(dcsPatch(standbyDcs(), promotedDcs(standbyDcs())), { standby_cluster: null });
    });
    it("promotionPatch (what npm run promote and the region_promotion bench send) is dcsPatch to promotedDcs", () => {
        assert.deepEqual(promotionPatch(standbyDcs(), standbyDcs()), { standby_cluster: null });
        assert.equal(promotionPatch(primaryDcs(), standbyDcs()), undefined);
    });
    it("already promoted: nothing to send", () => {
        assert.equal(dcsPatch(primaryDcs(), primaryDcs()), undefined);
    });
    it("demotion (fail-back: the old primary follows the new one) sets standby_cluster", () => {
        assert.deepEqual(dcsPatch(primaryDcs(), standbyDcs()), { standby_cluster: standbyDcs().standby_cluster });
    });
});

describe("PATCH /config: any other bootstrap.dcs key", () => {
    it("ttl, loop_wait, retry_timeout and synchronous_mode changes are sent, unchanged keys are not", () => {
        const live = primaryDcs();
        const want = json(patroniDcsSection(patroniSettings({ ttl: 30, loopWait: 5, retryTimeout: 10, synchronousMode: false })));
        assert.deepEqual(dcsPatch(live, want), { ttl: 30, loop_wait: 5, retry_timeout: 10, synchronous_mode: false });
    });
    it("a postgresql.parameters change is sent as a nested merge (only that parameter)", () => {
        const want = json(patroniDcsSection(patroniSettings({ maxConnections: 300 })));
        assert.deepEqual(dcsPatch(primaryDcs(), want), { postgresql: { parameters: { max_connections: 300 } } });
    });
    it("keys Spilo generated in the live config are left alone; values equal as Postgres reads them are equal", () => {
        const live = primaryDcs() as Record<string, any>;
        live.failsafe_mode = true;
        live.postgresql.parameters.archive_timeout = "60";
        live.postgresql.parameters.wal_log_hints = true;
        live.postgresql.parameters.shared_buffers = "1GB";
        assert.equal(dcsPatch(live, primaryDcs()), undefined);
    });
    it("the deployed bootstrap.dcs is read back from a member's SPILO_CONFIGURATION", () => {
        const member: SpiloMemberInput = {
            role: "standby", scope: "ops-center", memberName: "us-west-2-pg-1", connectHost: "opscenter-pg-1", etcdHosts: ["opscenter-etcd-1:2379"],
            backup: { bucket: "wal-us-west-2", region: "us-west-2", kmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/k" },
            standby: { primaryHosts: ["10.10.1.10"], primaryPort: 5000, replicatedBucket: "wal-us-west-2", primaryRegion: "us-east-1" },
        };
        const dcs = bootstrapDcs(parse(renderSpiloConfiguration(member)));
        assert.ok(dcs.standby_cluster, "the standby's deployed dcs has standby_cluster");
        assert.deepEqual(dcsPatch(dcs, promotedDcs(dcs)), { standby_cluster: null });
        assert.throws(() => bootstrapDcs({ bootstrap: {} }), /no bootstrap.dcs/);
    });
});

describe("promotion commands over the Docker provider's SSH path", () => {
    const HOST = "ssh://ubuntu@10.20.11.5";
    it("ssh to the manager, and to a data host through it", () => {
        assert.deepEqual(sshTarget(HOST), { dest: "ubuntu@10.20.11.5", user: "ubuntu", host: "10.20.11.5", port: undefined });
        assert.deepEqual(onManager(HOST, "true").slice(-2), ["ubuntu@10.20.11.5", "true"]);
        const n = onNode(HOST, "10.20.12.7", "true");
        assert.deepEqual(n.slice(-4), ["-J", "ubuntu@10.20.11.5", "ubuntu@10.20.12.7", "true"]);
        assert.throws(() => sshTarget("tcp://10.0.0.1:2376"), /must be ssh:\/\/user@host/);
        assert.throws(() => onNode(HOST, "x; rm -rf /", "true"), /not an address/);
    });
    it("Patroni's REST API on localhost:8008 inside the member's container (not published)", () => {
        assert.match(patroniRequest("opscenter-pg-1", "GET"), /docker exec "\$c" curl -fsS --max-time 10 http:\/\/localhost:8008\/config$/);
        assert.match(patroniRequest("opscenter-pg-1", "PATCH"), /docker exec -i "\$c" curl .* -X PATCH -H 'Content-Type: application\/json' --data-binary @- http:\/\/localhost:8008\/config$/);
        assert.match(patroniRequest("opscenter-pg-1", "GET"), /label=com.docker.swarm.service.name=opscenter-pg-1/);
        assert.match(inspectEnv("opscenter-pg-2"), /^docker service inspect opscenter-pg-2 /);
        assert.match(runningNodeAddress("opscenter-pg-1"), /desired-state=running.*docker node inspect "\$n" --format '\{\{\.Status\.Addr\}\}'/);
        assert.throws(() => patroniRequest("pg-1; reboot", "GET"), /not a Swarm service name/);
    });
});

describe("Redis promotion: the standby's replica becomes its region's master", () => {
    it("REPLICAOF NO ONE, then CONFIG REWRITE (the start script keeps the writable copy's replicaof on a restart)", () => {
        assert.deepEqual(REDIS_PROMOTE_COMMANDS, [["REPLICAOF", "NO", "ONE"], ["CONFIG", "REWRITE"]]);
    });
    it("redis-cli inside the node's container, the password from the secret file inside it, each command checked", () => {
        const cmd = redisPromoteRequest("opscenter-redis-1", REDIS_DEFAULTS.passwordFile, REDIS_DEFAULTS.port);
        assert.match(cmd, /label=com.docker.swarm.service.name=opscenter-redis-1/);
        assert.match(cmd, /docker exec "\$c" sh -c 'REDISCLI_AUTH="\$\(cat \/run\/secrets\/redis_password\)" && export REDISCLI_AUTH && /);
        assert.match(cmd, /redis-cli --no-auth-warning -p 6379 REPLICAOF NO ONE \| grep -qx OK && redis-cli --no-auth-warning -p 6379 CONFIG REWRITE \| grep -qx OK && redis-cli --no-auth-warning -p 6379 ROLE'$/);
        assert.ok(cmd.indexOf("REPLICAOF NO ONE") < cmd.indexOf("CONFIG REWRITE"));
        assert.throws(() => redisPromoteRequest("redis-1; reboot", REDIS_DEFAULTS.passwordFile, 6379), /not a Swarm service name/);
        assert.throws(() => redisPromoteRequest("opscenter-redis-1", "x'; reboot", 6379), /not an absolute path/);
    });
});

describe("standbyCredentials: copied once from the primary's outputs", () => {
    it("round trip from the primary's stack outputs, errors name the missing output", () => {
        const outputs = { pgSuperuserPassword: "a".repeat(32), pgReplicationPassword: "b".repeat(32), pgAppPassword: "c".repeat(32), pgMonitorPassword: "d".repeat(32), redisPassword: "e".repeat(32) };
        const v = standbyCredentialsFromOutputs(outputs);
        assert.equal(parseStandbyCredentials(v).redis, "e".repeat(32));
        assert.throws(() => standbyCredentialsFromOutputs({ ...outputs, redisPassword: undefined }), /no output redisPassword/);
        assert.doesNotThrow(() => parseStandbyCredentials(offlineStandbyCredentials()));
    });
});
