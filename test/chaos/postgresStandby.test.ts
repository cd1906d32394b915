/**
 * Chaos test: the standby region's Patroni standby cluster, with real daemons on loopback (issue 8, items
 * 6, 7 and 11). The primary region is PatroniCluster (two members, HAProxy); a second HAProxy with the same
 * config on 127.0.0.2 plays the primary's second data host (in production every primary data host publishes
 * HAProxy's leader port through the routing mesh). The standby cluster (one member, its own DCS namespace,
 * as in its own region) is configured by the production renderer with `standby_cluster.host` listing both
 * hosts, the leader's host first, exactly as the standby stack lists the primary's data hosts.
 *
 * - 7: while the standby member builds its copy (a replica method that takes 12 s, then pg_basebackup),
 *   Patroni answers 503 on /health but 200 on /liveness: the container health check must use /liveness.
 * - 6: the standby leader streams under its own name, which the primary counts as async, never as its
 *   synchronous standby.
 * - 11: the primary's leader host dies (Patroni and Postgres kill -9, and its HAProxy): the standby keeps
 *   streaming from the new leader through the second host, with no restore_command to fall back on.
 *
 * Run (as root): node --import tsx --test test/chaos/postgresStandby.test.ts
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import * as http from "node:http";
import { PATRONI_DEFAULTS, renderPatroniYaml, spiloMemberName } from "../../renderers/patroni";
import { dcsPatch, JsonObject, promotedDcs } from "../../renderers/patroniConfigPatch";
import { Daemon, run, signalDaemon, waitFor } from "./support";
import { httpJson, httpStatus, PG_BIN, PORTS, PatroniCluster, PgMember, startPatroni, stopPatroni } from "./patroniCluster";

const STANDBY = { name: spiloMemberName("us-west-2", 1), pgPort: PORTS.standbyPg, apiPort: PORTS.standbyApi };
/** The primary's two "data hosts": the leader's first (as the standby stack lists them), then the other. */
const PRIMARY_HOSTS = ["127.0.0.1", "127.0.0.2"];
const SLOW_BUILD_SECONDS = 12;

describe("postgres: the standby region's cluster streams through every primary host", { timeout: 420_000 }, () => {
    let c: PatroniCluster | undefined;
    let standby: Daemon | undefined;
    let leader: PgMember;
    let replica: PgMember;
    const sqlStandby = (statement: string) => c!.sqlAs(STANDBY.pgPort, PATRONI_DEFAULTS.superuserName, c!.password, "postgres", statement, 3000);

    before(async () => {
        c = await PatroniCluster.start();
        c.startHaproxyOn(PRIMARY_HOSTS[1]);
        leader = await c.waitLeader();
        replica = c.members.find((m) => m !== leader)!;
    });

    after(async () => {
        if (standby) await stopPatroni(standby, 20_000);
        if (c) await c.stop();
    });

    it("Patroni answers /liveness 200 and /health 503 while the standby member builds its copy", async () => {
        const dir = path.join(c!.dir, "standby");
        const dataDir = path.join(dir, "data");
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        fs.mkdirSync(path.join(c!.dir, "archive-standby"));
        run("chown", ["-R", "postgres:postgres", dir, path.join(c!.dir, "archive-standby")]);
        const yml = parse(renderPatroniYaml({
            scope: PATRONI_DEFAULTS.scope,
            // Its own DCS keys, as the standby region has its own etcd.
            namespace: `${c!.namespace.slice(0, -1)}-standby/`,
            name: STANDBY.name,
            etcdHosts: PORTS.etcdClient.map((p) => `127.0.0.1:${p}`),
            restApiListen: `127.0.0.1:${STANDBY.apiPort}`,
            restApiConnect: `127.0.0.1:${STANDBY.apiPort}`,
            pgListen: `127.0.0.1:${STANDBY.pgPort}`,
            pgConnect: `127.0.0.1:${STANDBY.pgPort}`,
            dataDir,
            binDir: PG_BIN,
            socketDir: dir,
            pgpassFile: path.join(dir, "pgpass"),
            archiveCommand: `cp %p ${c!.dir}/archive-standby/%f`,
            clientCidrs: ["127.0.0.0/8"],
            settings: c!.settings,
            // No restore_command: the only way to get WAL is streaming.
            standby: { host: PRIMARY_HOSTS.join(","), port: PORTS.haPrimary, createReplicaMethods: ["slow_build", "basebackup"] },
        })) as Record<string, Record<string, unknown>>;
        // A first replica method that takes a while and fails, as a long base backup or WAL-G restore would take.
        yml.postgresql.slow_build = { command: `/bin/sh -c "sleep ${SLOW_BUILD_SECONDS}; exit 1"`, no_params: true };
        const file = path.join(c!.dir, "standby.yml");
        fs.writeFileSync(file, stringify(yml), { mode: 0o644 });
        standby = startPatroni(STANDBY.name, file, path.join(c!.dir, "standby.log"), c!.dir, { PATRONI_SUPERUSER_PASSWORD: c!.password, PATRONI_REPLICATION_PASSWORD: c!.password });

        const samples: { state: string; liveness: number; health: number }[] = [];
        await waitFor("the standby member to finish building", async () => {
            const body = (await httpJson(STANDBY.apiPort, "/patroni", 1000).catch(() => undefined)) as { state?: string } | undefined;
            if (body?.state) samples.push({ state: body.state, liveness: await httpStatus(STANDBY.apiPort, "/liveness"), health: await httpStatus(STANDBY.apiPort, "/health") });
            return body?.state === "running";
        }, { timeoutMs: 120_000, intervalMs: 500 });
        const building = samples.filter((s) => s.state === "creating replica");
        // About 20 samples in the 12 s build on an idle machine; each is three HTTP calls, so a loaded one takes fewer.
        assert.ok(building.length >= 5, `sampled the build ${building.length} times: ${JSON.stringify(samples.slice(0, 5))}`);
        assert.deepEqual([...new Set(building.map((s) => s.liveness))], [200], "/liveness: Patroni's loop runs, the container is alive");
        assert.deepEqual([...new Set(building.map((s) => s.health))], [503], "/health: Postgres is not running yet; a health check on it would kill the build");
    });

    it("streams from the primary through the first host as the standby leader, under a name the primary counts as async", async () => {
        await waitFor("the standby leader", async () => (await httpStatus(STANDBY.apiPort, "/standby-leader")) === 200, { timeoutMs: 60_000, intervalMs: 500 });
        const recv = await waitFor("the WAL receiver to stream", async () => {
            const r = await sqlStandby("SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver");
            return r.code === 0 && r.stdout.startsWith("streaming|") ? r.stdout.trim() : undefined;
        }, { timeoutMs: 60_000, intervalMs: 500 });
        assert.equal(recv, `streaming|${PRIMARY_HOSTS[0]}|${PORTS.haPrimary}`);
        assert.equal((await sqlStandby("SHOW restore_command")).stdout.trim(), "", "no archive fallback: streaming only");
        const ins = await c!.sql(PORTS.haPrimary, "INSERT INTO acked (id) VALUES (-1)");
        assert.equal(ins.code, 0, ins.stderr);
        await waitFor("row -1 on the standby", async () => (await sqlStandby("SELECT count(*) FROM acked WHERE id = -1")).stdout.trim() === "1", { timeoutMs: 20_000, intervalMs: 250 });
        // Item 6: the primary sees the standby region under its own name, as async; its own replica stays sync.
        const repl = await c!.sql(leader.pgPort, "SELECT application_name, sync_state FROM pg_stat_replication ORDER BY 1");
        assert.deepEqual(repl.stdout.trim().split("\n").sort(), [`${replica.name}|sync`, `${STANDBY.name}|async`].sort());
        const ssn = (await c!.sql(leader.pgPort, "SHOW synchronous_standby_names")).stdout.trim();
        assert.ok(!ssn.includes(STANDBY.name) && ssn.includes(replica.name), ssn);
    });

    it("keeps streaming from the new leader through the second host when the leader's host dies", async () => {
        // The leader's host dies: its Patroni and Postgres, and the HAProxy the standby streams through.
        c!.crashHost(leader);
        if (c!.haproxy) signalDaemon(c!.haproxy, "SIGKILL");
        await c!.waitDown(leader);
        const viaSecond = (statement: string) => c!.sqlAs(PORTS.haPrimary, PATRONI_DEFAULTS.superuserName, c!.password, "postgres", statement, 3000, PRIMARY_HOSTS[1]);
        await waitFor("the replica to be promoted and reachable through the second host", async () => {
            const r = await viaSecond("SELECT inet_server_port(), pg_is_in_recovery()");
            return r.code === 0 && r.stdout.trim() === `${replica.pgPort}|f`;
        }, { timeoutMs: 90_000, intervalMs: 500 });
        const ins = await viaSecond("INSERT INTO acked (id) VALUES (-2)");
        assert.equal(ins.code, 0, ins.stderr);
        await waitFor("row -2 (written on the new leader) on the standby", async () => (await sqlStandby("SELECT count(*) FROM acked WHERE id = -2")).stdout.trim() === "1", { timeoutMs: 60_000, intervalMs: 250 });
        const recv = (await sqlStandby("SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver")).stdout.trim();
        assert.equal(recv, `streaming|${PRIMARY_HOSTS[1]}|${PORTS.haPrimary}`, "streaming through the second host");
        const onNew = await c!.sql(replica.pgPort, `SELECT count(*) FROM pg_stat_replication WHERE application_name = '${STANDBY.name}' AND state = 'streaming'`);
        assert.equal(onNew.stdout.trim(), "1", "the new leader streams to the standby region");
    });

    it("promotion with the whole primary region dead: the PATCH /config computed from the deployed config promotes the standby leader (issue 10 item 1)", async () => {
        // The rest of the primary region dies too.
        c!.crashHost(replica);
        await c!.waitDown(replica);
        const live = (await httpJson(STANDBY.apiPort, "/config")) as JsonObject;
        assert.ok(live.standby_cluster, "the live DCS holds standby_cluster (written once, at bootstrap)");
        const deployed = (parse(fs.readFileSync(path.join(c!.dir, "standby.yml"), "utf8")) as { bootstrap: { dcs: JsonObject } }).bootstrap.dcs;
        const body = dcsPatch(live, promotedDcs(deployed));
        assert.equal(body?.standby_cluster, null, `body: ${JSON.stringify(body)}`);
        const t0 = Date.now();
        const status = await new Promise<number>((resolve, reject) => {
            const req = http.request({ host: "127.0.0.1", port: STANDBY.apiPort, path: "/config", method: "PATCH", headers: { "Content-Type": "application/json" }, timeout: 5000 }, (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
            });
            req.on("error", reject);
            req.end(JSON.stringify(body));
        });
        assert.equal(status, 200);
        await waitFor("the standby leader to be promoted", async () => (await httpStatus(STANDBY.apiPort, "/primary")) === 200, { timeoutMs: 60_000, intervalMs: 250 });
        await waitFor("a write on the promoted region", async () => (await sqlStandby("INSERT INTO acked (id) VALUES (-3)")).code === 0, { timeoutMs: 30_000, intervalMs: 250 });
        const seconds = (Date.now() - t0) / 1000;
        console.log(`# PATCH ${JSON.stringify(body)} -> first acknowledged write in the promoted region after ${seconds.toFixed(1)} s`);
        assert.equal(dcsPatch((await httpJson(STANDBY.apiPort, "/config")) as JsonObject, promotedDcs(deployed)), undefined, "nothing left to PATCH");
        assert.equal((await sqlStandby("SELECT count(*) FROM acked WHERE id IN (-1, -2, -3)")).stdout.trim(), "3", "rows streamed before the loss are kept");
    });
});
