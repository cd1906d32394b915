/**
 * npm run postgres-leader (scripts/postgresLeader.ts): which member leads, for config postgresRollLast, read from the
 * leader's own pg_stat_replication (through the HAProxy primary port); the roll stops that member last.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { leaderFromReplication } from "../scripts/postgresLeader";
import { rollOrder } from "../lib/swarmSpec";

const row = (member: string, state = "streaming") => ({ applicationName: `us-east-1-${member}`, state });

describe("leaderFromReplication", () => {
    it("the leader is the one member not streaming from it", () => {
        assert.equal(leaderFromReplication("us-east-1", 3, [row("pg-1"), row("pg-3")]), "pg-2");
        assert.equal(leaderFromReplication("us-east-1", 3, [row("pg-3"), row("pg-2")]), "pg-1");
    });

    it("refuses when another member is not streaming (catching up, or down): a roll would stop a second member", () => {
        assert.throws(() => leaderFromReplication("us-east-1", 3, [row("pg-1"), row("pg-3", "catchup")]), /1 member\(s\) besides the leader are not streaming \(one of us-east-1-pg-2, us-east-1-pg-3\).*us-east-1-pg-3 \(catchup\)/);
        assert.throws(() => leaderFromReplication("us-east-1", 3, [row("pg-1")]), /not streaming/);
    });

    it("refuses a list that names every member (not the leader's, or another cluster's)", () => {
        assert.throws(() => leaderFromReplication("us-east-1", 3, [row("pg-1"), row("pg-2"), row("pg-3")]), /every member streams from the leader/);
        assert.throws(() => leaderFromReplication("us-west-2", 3, [row("pg-1"), row("pg-2")]), /besides the leader are not streaming/);
    });

    it("the member name it prints is one postgresRollLast accepts", () => {
        assert.match(leaderFromReplication("us-west-2", 2, [{ applicationName: "us-west-2-pg-2", state: "streaming" }]), /^pg-1$/);
    });
});

describe("rollOrder (lib/swarmSpec.ts): the chain the members roll in", () => {
    it("unset: as numbered; set: the others in order, then the named member", () => {
        assert.deepEqual(rollOrder(["pg-1", "pg-2", "pg-3"]), ["pg-1", "pg-2", "pg-3"]);
        assert.deepEqual(rollOrder(["pg-1", "pg-2", "pg-3"], "pg-2"), ["pg-1", "pg-3", "pg-2"]);
        assert.deepEqual(rollOrder(["pg-1", "pg-2", "pg-3"], "pg-3"), ["pg-1", "pg-2", "pg-3"]);
    });
    it("a name not in the chain is an error (config validation rejects it first)", () => {
        assert.throws(() => rollOrder(["pg-1", "pg-2"], "pg-3"), /"pg-3" is not one of pg-1, pg-2/);
    });
});
