/**
 * Smoke test of the Swarm lab (test/swarm/lab.ts): us-east-1's plan hosts become ONE real Swarm formed by their
 * own cloud-init scripts, with the plan's managers, workers, hostnames and labels; a plain overlay network carries
 * traffic between containers on two nodes; stop() leaves nothing behind. And the production plan still asks for an
 * encrypted data network, which the lab can only run unencrypted (this kernel has no ESP).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { byName, planStack, unwrap } from "../harness";
import { BASE_IMAGE, imagesPerNode, importBase, loadImages, missingStandIns, RUNTIME, satisfies, STAND_INS } from "./images";
import { docker, hostPids, Lab, nodeTable, slotNames, startLab } from "./lab";
import { hostsFromPlan, PlanHost } from "./planHosts";
import { FENCE_DEFAULTS } from "../../renderers/fence";

describe("plan hosts", () => {
    it("us-east-1: 2 edge, 3 app, 3 data; app-0 inits, app-1/app-2 join as managers, the rest as workers; labels zone/role", () => {
        const hosts = hostsFromPlan(planStack("us-east-1"));
        assert.deepEqual(hosts.map((h) => h.hostname), ["app-0", "app-1", "app-2", "data-0", "data-1", "data-2", "edge-0", "edge-1"]);
        assert.deepEqual(hosts.filter((h) => h.initManager).map((h) => h.hostname), ["app-0"]);
        assert.deepEqual(hosts.filter((h) => h.manager).map((h) => h.hostname), ["app-0", "app-1", "app-2"]);
        for (const h of hosts) {
            assert.equal(h.role, h.hostname.split("-")[0]);
            assert.deepEqual(h.labels, { zone: h.zone, role: h.role });
            assert.match(h.zone, /^us-east-1[abc]$/);
            assert.equal(h.manager, h.cloudInit.labeler !== undefined, `${h.hostname}: only managers run the labeller`);
        }
        // One host per zone for each of app and data (the zones the plan spreads them over).
        for (const role of ["app", "data"]) assert.deepEqual(hosts.filter((h) => h.role === role).map((h) => h.zone), ["us-east-1a", "us-east-1b", "us-east-1c"]);
        assert.deepEqual(hosts.map((h) => h.instanceType), ["t3.large", "t3.large", "t3.large", "r6i.xlarge", "r6i.xlarge", "r6i.xlarge", "t3.small", "t3.small"]);
    });

    it("us-west-2: its own plan's hosts (one edge host), app-0 inits", () => {
        const hosts = hostsFromPlan(planStack("us-west-2"));
        assert.deepEqual(hosts.map((h) => `${h.hostname}@${h.zone}`), [
            "app-0@us-west-2a", "app-1@us-west-2b", "app-2@us-west-2c", "data-0@us-west-2a", "data-1@us-west-2b", "data-2@us-west-2c", "edge-0@us-west-2a",
        ]);
        assert.deepEqual(hosts.filter((h) => h.manager).map((h) => h.hostname), ["app-0", "app-1", "app-2"]);
    });
});

describe("stand-in images", () => {
    it("every image either stack's plan runs has a stand-in, tagged with the plan's exact reference", () => {
        for (const stack of ["us-east-1", "us-west-2"]) assert.deepEqual(missingStandIns(planStack(stack)), [], stack);
        for (const ref of Object.keys(RUNTIME)) assert.ok(ref in STAND_INS, `${ref} has a runtime contract but no stand-in`);
    });

    it("each node gets only the images the plan can place on it (us-east-1)", () => {
        const plan = planStack("us-east-1");
        const per = imagesPerNode({ nodes: hostsFromPlan(plan) }, plan);
        assert.deepEqual(per.get("edge-0"), ["prom/node-exporter:v1.8.2", "traefik:v3.6.24"]);
        for (const h of ["data-0", "data-1", "data-2"]) assert.ok(per.get(h)!.includes("ghcr.io/zalando/spilo-17:4.0-p2"), `${h} runs a Patroni member (postgresMembers = 3)`);
        for (const h of ["app-0", "app-1", "app-2"]) assert.ok(per.get(h)!.includes("tecnativa/docker-socket-proxy:0.3.0"), `${h} is a manager`);
        for (const h of ["data-0", "edge-0"]) assert.ok(!per.get(h)!.includes("tecnativa/docker-socket-proxy:0.3.0"), `${h} is a worker`);
    });

    it("placement constraints: ==, != and the keys the lab evaluates; any other key fails by name", () => {
        const node = { hostname: "data-1", manager: false, labels: { role: "data", zone: "us-east-1b" } };
        assert.equal(satisfies(node, ["node.labels.role==data", "node.hostname==data-1"]), true);
        assert.equal(satisfies(node, ["node.labels.role != data"]), false);
        assert.equal(satisfies(node, ["node.role==manager"]), false);
        assert.throws(() => satisfies(node, ["engine.labels.x==y"]), /engine\.labels\.x/);
    });
});

describe("the production plan's data network", () => {
    it("is an encrypted overlay (the lab runs it unencrypted: no ESP in this kernel)", () => {
        const plan = planStack("us-east-1");
        const nets = plan.resources.filter((r) => r.type === "docker:index/network:Network");
        const data = nets.filter((r) => /data/.test(String(unwrap(r.inputs.name))));
        assert.equal(data.length, 1, `one data network; have ${nets.map((r) => unwrap(r.inputs.name)).join(", ")}`);
        const inputs = unwrap(data[0].inputs) as { name: string; driver: string; options?: Record<string, string> };
        assert.equal(inputs.name, "opscenter-data");
        assert.equal(inputs.driver, "overlay");
        assert.equal(inputs.options?.encrypted, "true", `data network options ${JSON.stringify(inputs.options)}`);
    });
});

describe("Swarm lab of us-east-1's hosts", { timeout: 1_800_000 }, () => {
    let lab: Lab | undefined;
    let hosts: PlanHost[];
    let slot = -1;
    let pidsSeen: number[] = [];

    before(async () => {
        hosts = hostsFromPlan(planStack("us-east-1"));
        const t0 = Date.now();
        lab = await startLab({ hosts });
        slot = lab.slot;
        process.stdout.write(`# lab started in ${Date.now() - t0} ms: ${JSON.stringify(lab.timings)}\n`);
    });
    after(async () => {
        await lab?.stop();
    });

    it("forms ONE Swarm with the plan's managers and workers, hostnames and labels", () => {
        const nodes = nodeTable(lab!.managerSocket());
        assert.deepEqual(nodes.map((n) => n.hostname).sort(), hosts.map((h) => h.hostname).sort());
        for (const h of hosts) {
            const n = nodes.find((x) => x.hostname === h.hostname)!;
            assert.equal(n.status, "ready", h.hostname);
            assert.equal(n.role, h.manager ? "manager" : "worker", h.hostname);
            assert.deepEqual(n.labels, h.labels, h.hostname);
        }
        // Every engine is in the same cluster, and its own hostname (UTS namespace) is the plan's.
        const clusters = new Set<string>();
        for (const node of lab!.nodes) {
            const info = JSON.parse(docker(node.socket, ["info", "--format", "{{json .}}"])) as { Name: string; Swarm: { LocalNodeState: string; Cluster?: { ID: string }; NodeAddr: string; RemoteManagers?: unknown[] } };
            assert.equal(info.Name, node.hostname);
            assert.equal(info.Swarm.LocalNodeState, "active", node.hostname);
            assert.equal(info.Swarm.NodeAddr, node.address, node.hostname);
            const cluster = JSON.parse(docker(lab!.managerSocket(), ["info", "--format", "{{json .Swarm.Cluster.ID}}"])) as string;
            clusters.add(cluster);
        }
        assert.equal(clusters.size, 1);
        pidsSeen = lab!.nodes.map((n) => n.pid);
    });

    it("a plain overlay network carries traffic between containers on two nodes", async () => {
        const a = lab!.nodes.find((n) => n.hostname === "data-0")!;
        const b = lab!.nodes.find((n) => n.hostname === "app-1")!;
        await Promise.all([importBase(a.socket), importBase(b.socket)]);
        docker(lab!.managerSocket(), ["network", "create", "--driver", "overlay", "--attachable", "lab-smoke"]);
        const echo = `use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 7000, Listen => 5, ReuseAddr => 1) or die $!; while (my $c = $s->accept) { my $l = <$c>; print $c "pong from $ENV{HOSTNAME} $l"; close $c }`;
        docker(a.socket, ["run", "-d", "--name", "smoke-server", "--hostname", "smoke-server", "--network", "lab-smoke", BASE_IMAGE, "perl", "-e", echo], { timeoutMs: 60_000 });
        const ip = docker(a.socket, ["inspect", "--format", "{{(index .NetworkSettings.Networks \"lab-smoke\").IPAddress}}", "smoke-server"]);
        assert.match(ip, /^172\.(2[4-7])\.\d+\.\d+$/, "an address from the plan's overlay pool 172.24.0.0/14");
        const client = `for i in $(seq 1 20); do if exec 3<>/dev/tcp/${ip}/7000; then echo ping >&3; read -t 5 line <&3; echo "$line"; exit 0; fi; sleep 0.5; done; exit 1`;
        const out = docker(b.socket, ["run", "--rm", "--network", "lab-smoke", BASE_IMAGE, "bash", "-c", client], { timeoutMs: 90_000 });
        assert.equal(out, "pong from smoke-server ping");
    });

    it("a name Swarm does not know fails in a container at once, as against the VPC resolver (not after glibc's 10 s per family)", () => {
        const b = lab!.nodes.find((n) => n.hostname === "app-1")!;
        const probe = 's=$(date +%s%N); getent hosts opscenter-no-such-service >/dev/null; rc=$?; e=$(date +%s%N); echo "$rc $(( (e - s) / 1000000 ))"';
        const [rc, ms] = docker(b.socket, ["run", "--rm", "--network", "lab-smoke", BASE_IMAGE, "bash", "-c", probe], { timeoutMs: 90_000 }).split(" ").map(Number);
        assert.equal(rc, 2, "getent: not found");
        assert.ok(ms < 3000, `the lookup took ${ms} ms (labResolver.ts: without an answering upstream it took 20.1 s)`);
    });

    it("each node holds exactly the plan's images for it; each image runs as its upstream's user, entrypoint and workdir", async () => {
        const plan = planStack("us-east-1");
        const t0 = Date.now();
        const per = await loadImages(lab!, plan, { log: (s) => process.stdout.write(`# ${s}\n`) });
        process.stdout.write(`# images built/loaded in ${Date.now() - t0} ms\n`);
        for (const node of lab!.nodes) {
            const tags = docker(node.socket, ["images", "--format", "{{.Repository}}:{{.Tag}}"]).split("\n").filter((t) => t && t !== BASE_IMAGE && t !== "<none>:<none>").sort();
            assert.deepEqual(tags, per.get(node.hostname), node.hostname);
        }
        for (const [ref, want] of Object.entries(RUNTIME)) {
            const node = lab!.nodes.find((n) => per.get(n.hostname)!.includes(ref));
            if (!node) continue; // an image of the other stack only
            const cfg = JSON.parse(docker(node.socket, ["image", "inspect", "--format", "{{json .Config}}", ref])) as { Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string };
            // An empty list is no entrypoint or command, as the Engine runs it (a Dockerfile's `CMD []` clears the base's).
            const none = (x: string[] | null | undefined) => (x && x.length ? x : null);
            assert.deepEqual(none(cfg.Entrypoint), want.entrypoint, `${ref} entrypoint`);
            assert.deepEqual(none(cfg.Cmd), want.cmd, `${ref} cmd`);
            assert.equal(cfg.WorkingDir ?? "", want.workdir, `${ref} workdir`);
            const ids = docker(node.socket, ["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", ref, "-c", `id -u; id -g${want.dropsTo ? `; id -u ${want.dropsTo.user}; id -g ${want.dropsTo.user}` : ""}`], { timeoutMs: 60_000 });
            const expect = [want.uid, want.gid, ...(want.dropsTo ? [want.dropsTo.uid, want.dropsTo.gid] : [])].map(String);
            assert.deepEqual(ids.split("\n"), expect, `${ref} user`);
        }
    });

    it("the Spilo stand-in, run with pg-1's environment and entrypoint from the plan, becomes the Patroni leader as postgres and the superuser writes over SSL", async () => {
        const plan = planStack("us-east-1");
        const node = lab!.nodes.find((n) => n.hostname === "data-0")!;
        const spec = unwrap(byName(plan, "docker:index/service:Service", "ops-postgres-pg-1").inputs) as {
            taskSpec: { containerSpec: { image: string; env: Record<string, string>; commands: string[]; secrets: { secretName: string; fileName: string }[]; configs: { configName: string; fileName: string }[] } };
        };
        const cs = spec.taskSpec.containerSpec;
        const dataOf = (type: string, name: string) => {
            const r = plan.resources.find((x) => x.type === type && unwrap(x.inputs.name) === name);
            assert.ok(r, `${type} ${name}`);
            return Buffer.from(String(unwrap(r.inputs.data)), "base64");
        };
        const dir = path.join("/var/tmp/opscenter-lab", String(lab!.slot), "spilo-smoke");
        fs.mkdirSync(path.join(dir, "secrets"), { recursive: true });
        for (const sec of cs.secrets) fs.writeFileSync(path.join(dir, "secrets", path.basename(sec.fileName)), dataOf("docker:index/secret:Secret", sec.secretName), { mode: 0o400 });
        // Every config the plan mounts (the entrypoint, Patroni's post_init script, ...), each at its file name.
        fs.mkdirSync(path.join(dir, "configs"), { recursive: true });
        const configMounts = cs.configs.flatMap((c, i) => {
            const file = path.join(dir, "configs", `${i}-${path.basename(c.fileName)}`);
            fs.writeFileSync(file, dataOf("docker:index/serviceConfig:ServiceConfig", c.configName), { mode: 0o555 });
            return ["-v", `${file}:${c.fileName}:ro`];
        });
        const etcd = byName(plan, "docker:index/service:Service", "ops-postgres-etcd-1");
        const etcdImage = (unwrap(etcd.inputs) as { taskSpec: { containerSpec: { image: string } } }).taskSpec.containerSpec.image;
        docker(node.socket, ["run", "-d", "--name", "smoke-etcd", "--network", "lab-smoke", ...["opscenter-etcd-1", "opscenter-etcd-2", "opscenter-etcd-3"].flatMap((a) => ["--network-alias", a]),
            etcdImage, "etcd", "--name=e1", "--data-dir=/tmp/e1", "--listen-client-urls=http://0.0.0.0:2379", "--advertise-client-urls=http://opscenter-etcd-1:2379"], { timeoutMs: 60_000 });
        // The Spilo entrypoint's region-fence gate waits for a fence-sync round newer than its start (renderers/fence.ts):
        // here a round stamped an hour ahead and no record stand in for the fence-sync service (stack.test.ts runs the real one).
        const fenceMount = (cs as { mounts?: { target: string }[] }).mounts?.find((m) => m.target === FENCE_DEFAULTS.dir);
        assert.ok(fenceMount, `pg-1 mounts the fence volume at ${FENCE_DEFAULTS.dir}`);
        fs.mkdirSync(path.join(dir, "fence"), { recursive: true });
        fs.writeFileSync(path.join(dir, "fence", "checked"), `${Math.floor(Date.now() / 1000) + 3600}\n`);
        const envArgs = Object.keys(cs.env).flatMap((k) => ["-e", k]);
        const r = spawnSync("docker", ["run", "-d", "--name", "smoke-pg", "--hostname", "opscenter-pg-1", "--network", "lab-smoke", "--network-alias", "opscenter-pg-1", ...envArgs,
            "-v", `${path.join(dir, "secrets")}:/run/secrets:ro`, "-v", `${path.join(dir, "fence")}:${FENCE_DEFAULTS.dir}:ro`, ...configMounts, "--entrypoint", cs.commands[0], cs.image, ...cs.commands.slice(1)],
            { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...cs.env, DOCKER_HOST: `unix://${node.socket}` } });
        assert.equal(r.status, 0, r.stderr);
        const t0 = Date.now();
        let primary = "";
        while (Date.now() - t0 < 240_000) {
            primary = docker(node.socket, ["exec", "smoke-pg", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://localhost:8008/primary"], { allowFail: true, timeoutMs: 15_000 });
            if (primary === "200") break;
            await new Promise((res) => setTimeout(res, 2000));
        }
        if (primary !== "200") {
            // The container's stderr too (docker logs writes it to its own stderr): Spilo and the gate log there.
            const logs = spawnSync("docker", ["logs", "--tail", "40", "smoke-pg"], { encoding: "utf8", timeout: 30_000, env: { ...process.env, DOCKER_HOST: `unix://${node.socket}` } });
            process.stdout.write(`# smoke-pg logs:\n${logs.stdout ?? ""}${logs.stderr ?? ""}\n`);
        }
        assert.equal(primary, "200", "Patroni's /primary answers 200 within 240 s");
        process.stdout.write(`# Spilo stand-in leader after ${Date.now() - t0} ms\n`);
        const top = docker(node.socket, ["top", "smoke-pg", "-eo", "pid,uid,args"]);
        assert.match(top, /^\s*\d+\s+101\s+\S*python3 \/opt\/patroni-4\/usr\/bin\/patroni/m, `Patroni runs as uid 101:\n${top}`);
        // The plan's superuser (PGUSER_SUPERUSER, pg_superuser_password): Spilo's post_init makes `admin` NOLOGIN, and the
        // plan ships no admin password (README, Postgres roles).
        const superFile = cs.secrets.find((x) => x.fileName.endsWith("pg_superuser_password"));
        assert.ok(superFile, "pg-1 mounts pg_superuser_password");
        const superPw = dataOf("docker:index/secret:Secret", superFile.secretName).toString();
        const out = docker(node.socket, ["exec", "-e", `PGPASSWORD=${superPw}`, "smoke-pg", "psql", `host=opscenter-pg-1 user=${cs.env.PGUSER_SUPERUSER} dbname=postgres sslmode=require`, "-Atc",
            // A TEMP table: the write leaves nothing behind.
            "CREATE TEMP TABLE smoke(x int); INSERT INTO smoke VALUES (1); SELECT count(*) || ' ' || current_user || ' ' || (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) FROM smoke"], { timeoutMs: 30_000 });
        // psql -c with several statements prints each one's tag first; the SELECT's row is the last line.
        assert.equal(out.trim().split("\n").pop(), `1 ${cs.env.PGUSER_SUPERUSER} true`); // the text of a boolean is 'true'
        const nossl = docker(node.socket, ["exec", "-e", `PGPASSWORD=${superPw}`, "smoke-pg", "psql", `host=opscenter-pg-1 user=${cs.env.PGUSER_SUPERUSER} dbname=postgres sslmode=disable`, "-Atc", "SELECT 1"], { allowFail: true, timeoutMs: 30_000 });
        assert.notEqual(nossl, "1", "Spilo's pg_hba rejects connections without SSL");
        docker(node.socket, ["rm", "-f", "smoke-pg", "smoke-etcd"], { timeoutMs: 60_000 });
    });

    it("a container's /var/run/docker.sock bind mount reaches its own node's engine (the socket proxy's mount)", () => {
        const node = lab!.nodes.find((n) => n.hostname === "app-1")!;
        const get = `use IO::Socket::UNIX; my $s = IO::Socket::UNIX->new(Peer => "/var/run/docker.sock") or die $!; print $s "GET /info HTTP/1.0\r\n\r\n"; local $/; my $r = <$s>; print $r =~ /"Name":"([^"]+)","Labels"/ ? $1 : "none";`;
        const name = docker(node.socket, ["run", "--rm", "--network", "none", "-v", "/var/run/docker.sock:/var/run/docker.sock:ro", BASE_IMAGE, "perl", "-e", get], { timeoutMs: 60_000 });
        assert.equal(name, "app-1");
    });

    it("killHost: the host's engine and containers die and a manager sees it Down; restoreHost: a reboot (no netfilter rule or interface kept), the same node Ready again", async () => {
        const victim = lab!.nodes.find((n) => n.hostname === "data-0")!;
        const nodeId = nodeTable(lab!.managerSocket()).find((x) => x.hostname === "data-0")!.id;
        const pidBefore = victim.pid;
        // What only the running kernel holds: a reboot clears them (labSystem.ts rebootNetns says what kept them cost).
        const inNs = (args: string[]) => spawnSync("nsenter", [`--net=/var/run/netns/${victim.netns}`, "--", ...args], { encoding: "utf8" });
        assert.equal(inNs(["iptables", "-t", "nat", "-N", "LAB-BEFORE-CRASH"]).status, 0);
        assert.equal(inNs(["ip", "link", "add", "labbefore0", "type", "bridge"]).status, 0); // no dummy module in this kernel
        await lab!.killHost("data-0");
        assert.deepEqual(hostPids(slotNames(lab!.slot).runDir + "/data-0", [pidBefore]), []);
        const t0 = Date.now();
        let status = "";
        while (Date.now() - t0 < 60_000) {
            status = nodeTable(lab!.managerSocket()).find((x) => x.id === nodeId)!.status;
            if (status === "down") break;
            await new Promise((r) => setTimeout(r, 1000));
        }
        assert.equal(status, "down", "a manager marks the killed host down within 60 s");
        process.stdout.write(`# data-0 seen Down after ${Date.now() - t0} ms\n`);
        await lab!.restoreHost("data-0");
        const back = nodeTable(lab!.managerSocket()).filter((x) => x.hostname === "data-0");
        assert.deepEqual(back.map((x) => [x.id, x.status]), [[nodeId, "ready"]]);
        assert.notEqual(victim.pid, pidBefore);
        assert.notEqual(inNs(["iptables", "-t", "nat", "-S", "LAB-BEFORE-CRASH"]).status, 0, "the restored host kept a netfilter chain from before the crash");
        assert.notEqual(inNs(["ip", "link", "show", "labbefore0"]).status, 0, "the restored host kept an interface from before the crash");
        assert.match(inNs(["iptables", "-t", "nat", "-S"]).stdout, /-N DOCKER\b/, "the new engine set up its NAT chains");
    });

    it("stop() leaves nothing behind: no namespace, dockerd, veth, bridge, iptables rule, mount or directory of ours", async () => {
        const n = slotNames(slot);
        await lab!.stop();
        lab = undefined;
        const netns = fs.existsSync("/var/run/netns") ? fs.readdirSync("/var/run/netns").filter((x) => x.startsWith(n.netnsPrefix)) : [];
        assert.deepEqual(netns, []);
        assert.deepEqual(hostPids(n.runDir, pidsSeen), []);
        const links = fs.readdirSync("/sys/class/net").filter((l) => l === n.bridge || l.startsWith(n.vethPrefix));
        assert.deepEqual(links, []);
        const rules = (await import("node:child_process")).spawnSync("iptables", ["-S"], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.includes(n.comment));
        assert.deepEqual(rules, []);
        const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(n.runDir) || l.includes(`/var/tmp/opscenter-lab/${slot}`));
        assert.deepEqual(mounts, []);
        assert.equal(fs.existsSync(n.runDir), false);
        assert.equal(fs.existsSync(n.lock), false);
    });
});
