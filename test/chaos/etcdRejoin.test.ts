/**
 * Chaos test of an etcd member that comes back with an empty data dir (a replaced data host, a new volume): three
 * real etcd 3.5.16 members on 127.0.0.1:25301-25303 (peers 25311-25313), each started by the entrypoint script the
 * program deploys (renderers/etcd.ts renderEtcdEntrypoint) under /bin/sh. A member's data dir is wiped and the
 * member restarted by the same script: it must remove/re-add itself through the live members and start as
 * `existing`, leaving 3 healthy members with the data; a second roll (another member) must too.
 *
 * etcd 3.5.16 is Debian 13's static binary, extracted by scripts/setup.d/30-trixie-etcd.sh (Debian 12 has 3.4).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { etcdHealthcheck, EtcdMemberInput, renderEtcdEntrypoint } from "../../renderers/etcd";
import { Daemon, run, scratchDir, startDaemon, stopAll, stopDaemon, waitFor } from "./support";

const ETCD_DIR = process.env.ETCD35_DIR ?? "/opt/opscenter-test/etcd-3.5.16";
const BIN = path.join(ETCD_DIR, "usr/bin");
const HOST = "127.0.0.1";
const MEMBERS = ["etcd-1", "etcd-2", "etcd-3"];
const CLIENT = [25301, 25302, 25303];
const PEER = [25311, 25312, 25313];
const env = { PATH: `${BIN}:${process.env.PATH}`, ETCDCTL_API: "3" };
const endpoint = (i: number) => `http://${HOST}:${CLIENT[i]}`;
/** The etcd services' restart policy delay (components/postgres.ts: restartPolicy condition any, delay 5s). */
const SWARM_RESTART_DELAY_MS = 5_000;
const ALL = CLIENT.map((_, i) => endpoint(i)).join(",");

function input(i: number, dataDir: string): EtcdMemberInput {
    return {
        name: MEMBERS[i],
        members: MEMBERS,
        hostOf: () => HOST,
        portsOf: (m) => ({ client: CLIENT[MEMBERS.indexOf(m)], peer: PEER[MEMBERS.indexOf(m)] }),
        listenHost: HOST,
        clusterToken: "chaos-etcd-rejoin",
        dataDir,
    };
}

function ctl(args: string[], endpoints = ALL) {
    return run(path.join(BIN, "etcdctl"), [`--endpoints=${endpoints}`, "--dial-timeout=2s", "--command-timeout=5s", ...args], { env, allowFail: true, timeoutMs: 10_000 });
}

/** `member list` as {name, started} rows (an unstarted member has no name). */
function members(): { id: string; status: string; name: string }[] {
    const r = ctl(["member", "list"]);
    if (r.code !== 0) return [];
    return r.stdout.trim().split("\n").filter(Boolean).map((l) => {
        const [id, status, name] = l.split(",").map((x) => x.trim());
        return { id, status, name };
    });
}

/** True when every member is started under its name and all three endpoints report healthy. */
function healthy(): boolean {
    const m = members();
    if (m.length !== 3 || m.some((x) => x.status !== "started") || [...m.map((x) => x.name)].sort().join() !== MEMBERS.join()) return false;
    return ctl(["endpoint", "health"]).code === 0;
}

describe("etcd member with an empty data dir rejoins through the live members (rendered entrypoint, etcd 3.5.16)", () => {
    let dir = "";
    const daemons: (Daemon | undefined)[] = [];
    const dataDir = (i: number) => path.join(dir, `data-${MEMBERS[i]}`);
    const stopping = new Set<number>();
    let restarts = 0;
    /**
     * Starts member i's rendered entrypoint, and restarts it when it exits on its own, as the service's Swarm
     * restart policy does (condition any, delay 5 s; bounded here to 20 restarts per test file).
     */
    const launch = (i: number, tag: string) => {
        const script = path.join(dir, `${MEMBERS[i]}-entrypoint.sh`);
        fs.writeFileSync(script, renderEtcdEntrypoint(input(i, dataDir(i))), { mode: 0o755 });
        // The image's /bin/sh is bash-static (bash in POSIX mode); the stand-in's is dash: member 1 runs under the
        // first, the others under the second.
        const [sh, ...shArgs] = i === 0 ? ["bash", "--posix"] : ["/bin/sh"];
        const d = startDaemon(`etcd-${MEMBERS[i]}-${tag}`, sh, [...shArgs, script], path.join(dir, `${MEMBERS[i]}.log`), { env });
        daemons[i] = d;
        d.child.on("exit", () => {
            if (stopping.has(i) || daemons[i] !== d || restarts >= 20) return;
            restarts++;
            setTimeout(() => {
                if (!stopping.has(i) && daemons[i] === d) launch(i, `restart-${restarts}`);
            }, SWARM_RESTART_DELAY_MS);
        });
    };
    const stop = async (i: number) => {
        stopping.add(i);
        await stopDaemon(daemons[i]!);
        stopping.delete(i);
    };
    const log = (i: number) => fs.readFileSync(path.join(dir, `${MEMBERS[i]}.log`), "utf8");

    /** Stops member i, wipes its data dir, starts it again through the script, and waits for 3 healthy members. */
    const replaceEmpty = async (i: number) => {
        await stop(i);
        fs.rmSync(dataDir(i), { recursive: true, force: true });
        launch(i, "empty");
        await waitFor(`${MEMBERS[i]} rejoined: 3 started, healthy members`, () => healthy(), { timeoutMs: 60_000, intervalMs: 500 });
    };

    before(async () => {
        assert.ok(fs.existsSync(path.join(BIN, "etcd")), `etcd 3.5.16 missing in ${BIN}: run scripts/setup.d/30-trixie-etcd.sh (npm test does)`);
        dir = scratchDir("etcd-rejoin");
        MEMBERS.forEach((_, i) => launch(i, "first"));
        await waitFor("first start: 3 healthy members", () => healthy(), { timeoutMs: 60_000, intervalMs: 500 });
        assert.equal(ctl(["put", "/service/opscenter/leader", "pg-1"]).code, 0);
    });

    after(async () => {
        MEMBERS.forEach((_, i) => stopping.add(i));
        await stopAll();
    });

    it("the first start: the bootstrap member starts a one-member cluster, the others join it by member add", () => {
        assert.match(log(0), /bootstrap a new one-member cluster/);
        for (let i = 1; i < 3; i++) {
            assert.doesNotMatch(log(i), /initial-cluster-state=new/);
            assert.match(log(i), /--initial-cluster-state=existing/);
        }
    });

    it("a wiped member removes its old identity, re-adds itself and starts as existing; the data is served by it", async () => {
        const before_ = members().find((m) => m.name === "etcd-2")!.id;
        await replaceEmpty(1);
        assert.match(log(1), /member remove [0-9a-f]+/);
        assert.match(log(1), /--initial-cluster-state=existing/);
        const after_ = members().find((m) => m.name === "etcd-2")!.id;
        assert.notEqual(after_, before_, "etcd-2 must be a new member (new id)");
        const got = ctl(["get", "/service/opscenter/leader", "--print-value-only", "--consistency=s"], endpoint(1));
        assert.equal(got.stdout.trim(), "pg-1", "the rejoined member serves the cluster's data from its own copy");
    });

    it("a second roll (another member wiped) leaves 3 healthy members, and a third (the first member) too", async () => {
        await replaceEmpty(2);
        await replaceEmpty(0);
        assert.equal(ctl(["put", "/after-rolls", "ok"]).code, 0, "the cluster has quorum and accepts writes");
        for (let i = 0; i < 3; i++) {
            assert.equal(ctl(["get", "/service/opscenter/leader", "--print-value-only", "--consistency=s"], endpoint(i)).stdout.trim(), "pg-1");
        }
    });

    it("a plain restart (data kept) restarts with its data and does not touch the membership", async () => {
        const ids = members().map((m) => m.id).sort().join();
        await stop(0);
        launch(0, "restart");
        await waitFor("3 healthy after a plain restart", () => healthy(), { timeoutMs: 60_000, intervalMs: 500 });
        assert.equal(members().map((m) => m.id).sort().join(), ids, "same member ids");
        assert.match(log(0), /data dir holds a WAL/);
    });
});

describe("the etcd service's health check is local (no quorum): a joining member can become healthy, so Swarm publishes its name", () => {
    // Swarm adds a task to its service's DNS only once the task's health check has passed (moby
    // daemon/cluster/executor/container/controller.go: Start waits for "healthy", then activateServiceBinding). A
    // check that needs quorum deadlocks a join: the added member counts for quorum, it cannot be healthy before its
    // peers reach it, and they cannot resolve it before it is healthy; then the first member loses quorum, turns
    // unhealthy, and is killed too (what the Swarm lab saw). kubeadm's etcd liveness probe is local for this reason:
    // /health?exclude=NOSPACE&serializable=true (cmd/kubeadm/app/phases/etcd/local.go).
    const C = 25321;
    const P = 25331;
    let dir = "";
    before(async () => {
        dir = scratchDir("etcd-health");
        // The bootstrap member alone (its peers do not answer): it starts a one-member cluster.
        const one: EtcdMemberInput = { ...input(0, path.join(dir, "data")), portsOf: (m) => ({ client: C + MEMBERS.indexOf(m), peer: P + MEMBERS.indexOf(m) }), clusterToken: "chaos-etcd-health" };
        const script = path.join(dir, "entrypoint.sh");
        fs.writeFileSync(script, renderEtcdEntrypoint(one), { mode: 0o755 });
        startDaemon("etcd-health-1", "/bin/sh", [script], path.join(dir, "etcd.log"), { env });
        await waitFor("the one-member cluster serves", () => ctl(["endpoint", "health"], `http://${HOST}:${C}`).code === 0, { timeoutMs: 30_000, intervalMs: 300 });
        // A second member added but not started (its task is starting, its name not yet in Swarm's DNS): no quorum.
        assert.equal(ctl(["member", "add", "etcd-2", `--peer-urls=http://${HOST}:${P + 1}`], `http://${HOST}:${C}`).code, 0);
    });
    after(async () => {
        await stopAll();
    });

    it("the quorum check fails on that member (the old health check would have had it killed)", () => {
        assert.notEqual(ctl(["endpoint", "health"], `http://${HOST}:${C}`).code, 0);
    });

    it("the service's health check command passes on it", () => {
        const [cmd, ...args] = etcdHealthcheck(C).slice(1);
        const r = run(path.join(BIN, cmd), args, { env, allowFail: true, timeoutMs: 10_000 });
        assert.equal(r.code, 0, `${etcdHealthcheck(C).join(" ")}: ${r.stdout}${r.stderr}`);
    });
});
