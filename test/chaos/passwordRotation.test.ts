/**
 * Password rotation against real Postgres 15 + Patroni 4.0.7 (test/chaos/patroniCluster.ts: etcd x3, two members,
 * HAProxy whose primary port routes to the leader), with the roles created by the production post_init.
 *
 * Today's rotation only shipped new secret files: Patroni never changes an existing role's password, so the new
 * password is refused. scripts/rotatePasswords.ts alters the roles on the leader FIRST (the rendered roles SQL through
 * the HAProxy primary port), then the secrets roll. A login loop (a new connection every ~50 ms as the application
 * role, with whatever password is deployed at that moment) counts failed logins across the rotation.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { POSTGRES_ROLES_DEFAULTS } from "../../renderers/postgresRoles";
import { alterRolePasswords, newPassword } from "../../scripts/rotatePasswords";
import { leaderFromReplication, replicationRows } from "../../scripts/postgresLeader";
import { PORTS, PRIMARY_REGION, PatroniCluster } from "./patroniCluster";
import { sleep, stopAll } from "./support";

const APP = POSTGRES_ROLES_DEFAULTS.appRole;
const DB = POSTGRES_ROLES_DEFAULTS.appDatabase;

describe("password rotation: ALTER ROLE on the leader first, then roll the secrets (Patroni 4.0.7, Postgres 15)", () => {
    let c: PatroniCluster | undefined;
    const k = (): PatroniCluster => {
        assert.ok(c, "cluster did not start");
        return c;
    };
    const login = async (password: string) => (await k().sqlAs(PORTS.haPrimary, APP, password, DB, "SELECT 1")).code === 0;

    before(async () => {
        c = await PatroniCluster.start();
    });
    after(async () => {
        await c?.stop();
        await stopAll();
    });

    it("the deployed app password logs in; a new secret alone (today's rotation) is refused: nothing altered the role", async () => {
        assert.ok(await login(k().rolePasswords.app));
        assert.equal(await login(newPassword()), false);
    });

    it("after the rotation the app role logs in with the new password only; failed logins of the loop are counted", async () => {
        let deployed = k().rolePasswords.app;
        const next = newPassword();
        // straddled: a login with the old password that was in flight when the ALTER ran (its psql may authenticate
        // after the ALTER commits, as any client's would); it is counted apart, not as a failure of the rotation.
        const stats = { ok: 0, failed: 0, failedAfterRoll: 0, straddled: 0 };
        // 0 before the ALTER, 1 from it on: a login that started at 1 used the new secret.
        let generation = 0;
        let running = true;
        const loop = (async () => {
            const deadline = Date.now() + 60_000;
            for (let i = 0; running && i < 2_000 && Date.now() < deadline; i++) {
                const started = generation;
                if (await login(deployed)) stats.ok++;
                else if (started !== generation) stats.straddled++;
                else {
                    stats.failed++;
                    if (started > 0) stats.failedAfterRoll++;
                }
                await sleep(50);
            }
        })();
        await sleep(2_000);
        const leader = await k().waitLeader();
        generation++;
        alterRolePasswords({ host: "127.0.0.1", port: PORTS.haPrimary, superuserPassword: k().password }, { app: next, monitor: newPassword() });
        deployed = next;
        await sleep(3_000);
        running = false;
        await loop;
        console.log(`password rotation login loop: ${stats.ok} ok, ${stats.failed} failed (${stats.failedAfterRoll} after the roll), ${stats.straddled} refused in flight across the ALTER`);
        assert.ok(await login(next), "the new password logs in");
        assert.equal(await login(k().rolePasswords.app), false, "the old password is refused");
        assert.equal(stats.failedAfterRoll, 0, "no failed login once the secret is rolled");
        assert.equal(stats.failed, 0, "no failed login across the rotation (the loop switched to the new secret as soon as the leader had it)");
        assert.ok(stats.straddled <= 1, `at most the one login in flight across the ALTER is refused: ${stats.straddled}`);
        // The replica got the new password by replication (roles are cluster-wide catalog rows).
        const replica = k().members.find((m) => m.name !== leader.name)!;
        assert.equal((await k().sqlAs(replica.pgPort, APP, next, DB, "SELECT 1")).code, 0, "the replica accepts the new password");
    });

    it("npm run postgres-leader (the roll's postgresRollLast): the leader's pg_stat_replication through HAProxy names the member Patroni leads with", async () => {
        const leader = await k().waitLeader();
        let found: string | undefined;
        let last = "";
        for (let i = 0; i < 30 && found === undefined; i++) {
            try {
                found = leaderFromReplication(PRIMARY_REGION, k().members.length, replicationRows({ host: "127.0.0.1", port: PORTS.haPrimary, superuserPassword: k().password }));
            } catch (e) {
                last = e instanceof Error ? e.message : String(e);
                await sleep(1_000);
            }
        }
        assert.equal(found && `${PRIMARY_REGION}-${found}`, leader.name, `postgres-leader: ${found ?? last}`);
    });
});
