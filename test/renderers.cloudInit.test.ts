/**
 * cloud-init renderer: the #cloud-config document, and the rendered bash scripts run for real by bash
 * against stub `docker`, `aws`, `curl` commands (no network, no Docker daemon, no AWS): the Swarm init,
 * join and labelling logic is exercised, not just grepped.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import {
    CLOUD_INIT_DEFAULTS,
    CloudInitInput,
    renderCloudInit,
    renderSwarmBootstrapScript,
    renderSwarmLabelerScript,
    swarmSsmPrefix,
} from "../renderers/cloudInit";
import { DATA_VOLUME_DEFAULTS } from "../renderers/dataVolume";
import { KEEPALIVED_DEFAULTS } from "../renderers/keepalived";

const base: CloudInitInput = {
    hostname: "app-0",
    role: "app",
    zone: "us-east-1a",
    join: "init",
    region: "us-east-1",
    ssmPrefix: swarmSsmPrefix("us-east-1"),
    sshUser: "admin",
    reservedCidrs: ["10.10.0.0/16", "10.20.0.0/16"],
};

interface CloudConfig {
    hostname: string;
    packages: string[];
    write_files: { path: string; permissions: string; content: string }[];
    runcmd: string[][];
}
const doc = (input: CloudInitInput) => {
    const text = renderCloudInit(input);
    assert.ok(text.startsWith("#cloud-config\n"));
    return parse(text) as CloudConfig;
};
const file = (d: CloudConfig, p: string) => d.write_files.find((f) => f.path === p);

describe("renderCloudInit", () => {
    it("installs Docker from Debian, sets the Swarm hostname, runs the bootstrap as a bounded unit", () => {
        const d = doc(base);
        assert.equal(d.hostname, "app-0");
        assert.ok(d.packages.includes("docker.io"));
        assert.ok(!d.packages.some((p) => /docker-ce|keepalived/.test(p)));
        assert.ok(d.packages.includes("awscli"));
        const unit = file(d, "/etc/systemd/system/ops-swarm-bootstrap.service")!.content;
        const timeout = Number(/TimeoutStartSec=(\d+)/.exec(unit)![1]);
        assert.ok(timeout > CLOUD_INIT_DEFAULTS.joinAttempts * CLOUD_INIT_DEFAULTS.joinIntervalSeconds, "unit outlives the join loop");
        assert.equal(file(d, CLOUD_INIT_DEFAULTS.bootstrapPath)!.permissions, "0755");
        assert.deepEqual(d.runcmd.find((c) => c.includes("ops-swarm-bootstrap.service")), ["systemctl", "enable", "--now", "--no-block", "ops-swarm-bootstrap.service"]);
        const daemon = JSON.parse(file(d, "/etc/docker/daemon.json")!.content);
        assert.equal(daemon["log-opts"]["max-size"], "10m");
        assert.equal(daemon["live-restore"], undefined, "live-restore is incompatible with Swarm mode");
    });

    it("gives managers the labelling timer, workers not", () => {
        assert.ok(file(doc(base), "/etc/systemd/system/ops-swarm-label.timer"));
        assert.ok(file(doc({ ...base, hostname: "app-1", join: "manager" }), CLOUD_INIT_DEFAULTS.labelerPath));
        const worker = doc({ ...base, hostname: "data-0", role: "data", join: "worker" });
        assert.equal(file(worker, CLOUD_INIT_DEFAULTS.labelerPath), undefined);
        assert.ok(!worker.runcmd.some((c) => c.includes("ops-swarm-label.timer")));
    });

    it("prepares edge hosts for keepalived: package, script user, AWS CLI path", () => {
        const d = doc({ ...base, hostname: "edge-0", role: "edge", join: "worker", edgeEipAllocationId: "eipalloc-0123456789abcdef0" });
        assert.ok(d.packages.includes("keepalived") && d.packages.includes("curl"));
        const cmds = d.runcmd.map((c) => c.join(" "));
        assert.ok(cmds.some((c) => c.includes(`useradd --system`) && c.includes(KEEPALIVED_DEFAULTS.scriptUser)));
        assert.ok(cmds.includes(`ln -sf /usr/bin/aws ${KEEPALIVED_DEFAULTS.awsCli}`));
        assert.match(file(d, CLOUD_INIT_DEFAULTS.bootstrapPath)!.content, /^EIP_ALLOCATION='eipalloc-0123456789abcdef0'$/m);
    });

    it("a data host mounts its EBS volume (by id) before it joins the Swarm, and Docker waits for the mount at boot", () => {
        const d = doc({ ...base, hostname: "data-1", role: "data", join: "worker", dataVolumeId: "vol-0123456789abcdef0" });
        assert.match(file(d, DATA_VOLUME_DEFAULTS.scriptPath)!.content, /^VOLUME_ID='vol-0123456789abcdef0'$/m);
        const unit = file(d, "/etc/systemd/system/ops-data-volume.service")!.content;
        assert.match(unit, /Before=ops-swarm-bootstrap\.service/);
        const bootstrap = file(d, "/etc/systemd/system/ops-swarm-bootstrap.service")!.content;
        assert.match(bootstrap, /^Requires=ops-data-volume\.service$/m);
        assert.match(bootstrap, /^After=.*ops-data-volume\.service/m);
        assert.match(file(d, "/etc/systemd/system/docker.service.d/ops-data-volume.conf")!.content, /RequiresMountsFor=\/var\/lib\/docker\/volumes/);
        assert.ok(d.runcmd.some((c) => c.join(" ") === "systemctl enable ops-data-volume.service"));
        assert.equal(file(doc(base), DATA_VOLUME_DEFAULTS.scriptPath), undefined, "only data hosts");
        assert.throws(() => renderCloudInit({ ...base, dataVolumeId: "vol-0123456789abcdef0" }), /dataVolumeId = "vol-0123456789abcdef0": is only for data hosts/);
    });

    it("installs AWS's SSM Agent only when asked, before the Swarm bootstrap", () => {
        const plain = doc(base).runcmd.map((c) => c.join(" "));
        assert.ok(!plain.some((c) => c.includes("amazon-ssm-agent")));
        const withAgent = doc({ ...base, ssmAgent: true }).runcmd.map((c) => c.join(" "));
        const i = withAgent.findIndex((c) => c.includes("https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest/debian_amd64/amazon-ssm-agent.deb"));
        assert.ok(i >= 0 && i < withAgent.findIndex((c) => c.includes("ops-swarm-bootstrap.service")));
        assert.match(withAgent[i], /dpkg -s amazon-ssm-agent .*\|\| \{ curl -fsSL --retry 5 --max-time 300/);
    });

    it("contains no secret: tokens exist only at run time", () => {
        for (const input of [base, { ...base, hostname: "data-2", role: "data" as const, join: "worker" as const }]) {
            const text = renderCloudInit(input);
            assert.doesNotMatch(text, /SWMTKN|BEGIN .*PRIVATE KEY|password/i);
        }
    });

    it("scripts are valid bash", () => {
        for (const [name, text] of [["bootstrap", renderSwarmBootstrapScript(base)], ["labeler", renderSwarmLabelerScript(base)]]) {
            const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
            assert.equal(r.status, 0, `${name}: ${r.stderr}`);
        }
    });

    it("rejects bad input naming the field and the allowed values", () => {
        assert.throws(() => renderCloudInit({ ...base, hostname: "App_0" }), /cloud-init hostname = "App_0": must be <edge\|app\|data>-<index>/);
        assert.throws(() => renderCloudInit({ ...base, zone: "us-west-2a" }), /zone = "us-west-2a": must be a zone of region us-east-1/);
        assert.throws(() => renderCloudInit({ ...base, hostname: "data-0", role: "data" }), /join = "init": managers must be app hosts/);
        assert.throws(() => renderCloudInit({ ...base, hostname: "app-1" }), /only app-0 initialises/);
        assert.throws(() => renderCloudInit({ ...base, ssmPrefix: "/other/swarm" }), /ssmPrefix = "\/other\/swarm"/);
        assert.throws(() => renderCloudInit({ ...base, edgeEipAllocationId: "eipalloc-0123456789abcdef0" }), /only for edge hosts/);
        assert.throws(() => renderCloudInit({ ...base, reservedCidrs: ["172.25.0.0/16"] }), /must not overlap the Swarm overlay pool 172.24.0.0\/14/);
        assert.throws(() => renderCloudInit({ ...base, joinAttempts: 0 }), /joinAttempts = 0/);
        assert.throws(() => swarmSsmPrefix("a/b"), /stack = "a\/b"/);
    });
});

// ---- the scripts under bash with stub commands ----

const root = mkdtempSync(path.join(tmpdir(), "cloudinit-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;

const STUBS: Record<string, string> = {
    docker: `#!/bin/bash
echo "docker $*" >> "$STATE/log"
case "$1 \${2:-}" in
  "info ") exit 0 ;;
  "info --format") case "$3" in
      *LocalNodeState*)
        # join-pending: a join that timed out goes on in the background; it completes after pending-reads more reads.
        if [ "$(cat "$STATE/swarm")" = pending ] && [ -f "$STATE/pending-reads" ]; then
          n=$(cat "$STATE/pending-reads"); if [ "$n" -le 0 ]; then echo active > "$STATE/swarm"; else echo $((n - 1)) > "$STATE/pending-reads"; fi
        fi
        cat "$STATE/swarm" ;;
      *ControlAvailable*) cat "$STATE/control" ;;
    esac ;;
  "swarm init") echo active > "$STATE/swarm" ;;
  "swarm join")
    if [ -f "$STATE/join-pending" ]; then echo "\${@: -1}" > "$STATE/joined-via"; echo pending > "$STATE/swarm"; echo "Timeout was reached before node joined." >&2; exit 1; fi
    [ -f "$STATE/join-ok" ] || exit 1; echo "\${@: -1}" > "$STATE/joined-via"; echo active > "$STATE/swarm" ;;
  "swarm join-token") echo "SWMTKN-1-$4-stub" ;;
  "swarm leave") echo inactive > "$STATE/swarm" ;;
  "node ls") cat "$STATE/nodes" ;;
  "node inspect") echo "zone= role=" ;;
esac`,
    aws: `#!/bin/bash
echo "aws $*" >> "$STATE/log"
arg() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
key() { echo "$1" | tr / _; }
case "$1 $2" in
  "ssm get-parameter") f="$STATE/params/$(key "$(arg --name "$@")")"; [ -f "$f" ] || { echo "ParameterNotFound" >&2; exit 254; }; cat "$f"; echo ;;
  "ssm put-parameter") v=$(arg --value "$@"); n=$(key "$(arg --name "$@")"); cp "\${v#file://}" "$STATE/params/$n"; arg --type "$@" > "$STATE/params/$n.type"; echo "$n" >> "$STATE/puts" ;;
  "ssm get-parameters-by-path")
    # The labeler tests give the listing as a file; otherwise list the seeded parameters under the path.
    p=$(key "$(arg --path "$@")")
    if [ -f "$STATE/by-path" ]; then cat "$STATE/by-path"; else
      vals=(); for f in "$STATE/params/$p"_*; do [ -f "$f" ] && [[ $f != *.type ]] && vals+=("$(cat "$f")"); done
      (IFS=$'\t'; echo "\${vals[*]:-}")
    fi ;;
  "ec2 associate-address") exit 0 ;;
esac`,
    curl: `#!/bin/bash
case "$*" in *api/token*) echo tok ;; *vpc-id*) echo vpc-0live ;; *local-ipv4*) echo 10.10.128.5 ;; *instance-id*) echo i-0abc ;; */mac*) echo 0a:00:00:00:00:01 ;; esac`,
    usermod: `#!/bin/bash
echo "usermod $*" >> "$STATE/log"`,
    sleep: `#!/bin/bash
echo "sleep $*" >> "$STATE/log"`,
    // timeout 5 bash -c '>/dev/tcp/<ip>/2377': every address answers with $STATE/reachable, or just <ip> with $STATE/reachable-<ip>.
    timeout: `#!/bin/bash
ip=$(echo "$*" | sed -n 's#.*/dev/tcp/\\([0-9.]*\\)/.*#\\1#p')
[ -f "$STATE/reachable" ] || [ -f "$STATE/reachable-$ip" ]`,
    date: `#!/bin/bash
echo 1700000000`,
};

/** Runs a rendered script with the stubs first on PATH; `setup` seeds the stub state. */
function runScript(script: string, setup: (state: string) => void) {
    const dir = path.join(root, String(seq++));
    const bin = path.join(dir, "bin");
    const state = path.join(dir, "state");
    mkdirSync(bin, { recursive: true });
    mkdirSync(path.join(state, "params"), { recursive: true });
    for (const [name, text] of Object.entries(STUBS)) {
        writeFileSync(path.join(bin, name), text + "\n");
        chmodSync(path.join(bin, name), 0o755);
    }
    writeFileSync(path.join(state, "swarm"), "inactive\n");
    writeFileSync(path.join(state, "control"), "true\n");
    writeFileSync(path.join(state, "log"), "");
    setup(state);
    const r = spawnSync("bash", ["-c", script], {
        env: { PATH: `${bin}:/usr/bin:/bin`, STATE: state, TMPDIR: dir },
        encoding: "utf8",
        timeout: 120_000,
    });
    const read = (f: string) => (existsSync(path.join(state, f)) ? readFileSync(path.join(state, f), "utf8") : "");
    const param = (name: string) => read(`params/${`${base.ssmPrefix}/${name}`.replace(/\//g, "_")}`);
    const type = (name: string) => read(`params/${`${base.ssmPrefix}/${name}`.replace(/\//g, "_")}.type`).trim();
    return { status: r.status, stderr: r.stderr, log: read("log"), puts: read("puts").trim().split("\n"), param, type, joinedVia: read("joined-via").trim() };
}
const seed = (state: string, name: string, value: string) =>
    writeFileSync(path.join(state, "params", `${base.ssmPrefix}/${name}`.replace(/\//g, "_")), value);

describe("bootstrap script", () => {
    it("app-0 initialises the Swarm and publishes tokens as SecureString, address, then its instance id", () => {
        const r = runScript(renderSwarmBootstrapScript(base), () => {});
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /docker swarm init --advertise-addr 10\.10\.128\.5 --listen-addr 10\.10\.128\.5:2377 --default-addr-pool 172\.24\.0\.0\/14 --default-addr-pool-mask-length 24/);
        assert.equal(r.param("manager-token"), "SWMTKN-1-manager-stub");
        assert.equal(r.param("worker-token"), "SWMTKN-1-worker-stub");
        assert.equal(r.type("manager-token"), "SecureString");
        assert.equal(r.type("worker-token"), "SecureString");
        assert.equal(r.param("manager-addr"), "10.10.128.5");
        assert.equal(r.param("nodes/app-0"), "zone=us-east-1a role=app");
        const order = r.puts.map((p) => p.slice(swarmSsmPrefix("us-east-1").length + 1).replace(/_/g, "/"));
        assert.deepEqual(order, ["manager-token", "worker-token", "manager-addr", "manager-instance-id", "initialised", "managers/app-0", "nodes/app-0"]);
        assert.equal(r.param("manager-instance-id"), "i-0abc");
        assert.doesNotMatch(r.log.split("\n").filter((l) => l.startsWith("aws")).join("\n"), /SWMTKN/, "tokens never on the aws command line");
        assert.match(r.log, /usermod -aG docker admin/);
    });

    it("first deploy (no marker of this VPC): app-0 creates a fresh Swarm even when a stale address is published", () => {
        const r = runScript(renderSwarmBootstrapScript(base), (s) => seed(s, "manager-addr", "10.10.160.7"));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /docker swarm init/);
        assert.doesNotMatch(r.log, /docker swarm join /);
    });

    it("a replaced app-0 re-joins a live Swarm instead of splitting it", () => {
        const r = runScript(renderSwarmBootstrapScript(base), (s) => {
            seed(s, "manager-addr", "10.10.160.7");
            seed(s, "manager-token", "SWMTKN-1-live");
            writeFileSync(path.join(s, "reachable"), "");
            writeFileSync(path.join(s, "join-ok"), "");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /docker swarm join --token SWMTKN-1-live --advertise-addr 10\.10\.128\.5 --listen-addr 10\.10\.128\.5:2377 10\.10\.160\.7:2377/);
        assert.doesNotMatch(r.log, /docker swarm init/);
        assert.equal(r.param("manager-addr"), "10.10.128.5", "re-publishes itself");
    });

    it("a worker polls until the token appears, joins, and publishes its wanted labels", () => {
        const input = { ...base, hostname: "data-1", role: "data" as const, zone: "us-east-1b", join: "worker" as const };
        const r = runScript(renderSwarmBootstrapScript(input), (s) => {
            seed(s, "manager-addr", "10.10.128.9");
            seed(s, "worker-token", "SWMTKN-1-w");
            writeFileSync(path.join(s, "reachable"), "");
            writeFileSync(path.join(s, "join-ok"), "");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /docker swarm join --token SWMTKN-1-w .* 10\.10\.128\.9:2377/);
        assert.equal(r.param("nodes/data-1"), "zone=us-east-1b role=data");
        assert.equal(r.param("manager-token"), "", "workers publish no token");
        assert.doesNotMatch(r.log, /get-parameter --name \S+manager-token/, "workers never read the manager token");
    });

    it("a worker gives up after joinAttempts when no manager publishes (bounded)", () => {
        const input = { ...base, hostname: "data-0", role: "data" as const, join: "worker" as const, joinAttempts: 4, joinIntervalSeconds: 7 };
        const r = runScript(renderSwarmBootstrapScript(input), () => {});
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /could not join as worker/);
        assert.equal(r.log.split("\n").filter((l) => l === "sleep 7").length, 4);
        assert.equal(r.param("nodes/data-0"), "");
    });

    it("edge-0 takes the EIP once, never re-associating it away from another host", () => {
        const input = { ...base, hostname: "edge-0", role: "edge" as const, join: "worker" as const, edgeEipAllocationId: "eipalloc-0123456789abcdef0" };
        const r = runScript(renderSwarmBootstrapScript(input), (s) => {
            seed(s, "manager-addr", "10.10.128.9");
            seed(s, "worker-token", "SWMTKN-1-w");
            writeFileSync(path.join(s, "reachable"), "");
            writeFileSync(path.join(s, "join-ok"), "");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /aws ec2 associate-address --allocation-id eipalloc-0123456789abcdef0 --instance-id i-0abc --no-allow-reassociation/);
    });
});

describe("bootstrap script: one Swarm, whichever manager dies (issue 12 item 1)", () => {
    const heartbeat = (addr: string, instance: string) => `addr=${addr} instance=${instance} at=1699999990`;
    const app1 = { ...base, hostname: "app-1", zone: "us-east-1b", join: "manager" as const };

    it("first deploy: app-0 initialises, then marks the Swarm initialised for this VPC and publishes itself under managers/", () => {
        const r = runScript(renderSwarmBootstrapScript(base), () => {});
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /docker swarm init/);
        assert.equal(r.param("initialised"), "vpc-0live 1700000000");
        assert.equal(r.param("managers/app-0"), "addr=10.10.128.5 instance=i-0abc at=1700000000");
    });

    it("a replaced app-0 never initialises a Swarm this stack already has: it joins through any live manager", () => {
        const r = runScript(renderSwarmBootstrapScript(base), (s) => {
            seed(s, "initialised", "vpc-0live 1690000000");
            seed(s, "manager-addr", "10.10.128.7"); // the dead app-0
            seed(s, "managers/app-0", heartbeat("10.10.128.7", "i-0dead"));
            seed(s, "managers/app-1", heartbeat("10.10.160.8", "i-0one"));
            seed(s, "manager-token", "SWMTKN-1-live");
            writeFileSync(path.join(s, "reachable-10.10.160.8"), "");
            writeFileSync(path.join(s, "join-ok"), "");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.log, /docker swarm init/);
        assert.equal(r.joinedVia, "10.10.160.8:2377");
        assert.match(r.log, /docker swarm join --token SWMTKN-1-live --advertise-addr 10\.10\.128\.5 --listen-addr 10\.10\.128\.5:2377 10\.10\.160\.8:2377/);
        assert.equal(r.param("managers/app-0"), "addr=10.10.128.5 instance=i-0abc at=1700000000", "publishes its new address");
    });

    it("a manager join that times out (pending) is waited for, never left: the managers may already count the node", () => {
        // Swarm lab, 2026-12-07: app-0 replaced while its old node was a Down manager. The join timed out, the
        // script left the pending join, and the Raft group it had joined (4 members, 2 live) lost its leader for good.
        const r = runScript(renderSwarmBootstrapScript(base), (s) => {
            seed(s, "initialised", "vpc-0live 1690000000");
            seed(s, "managers/app-1", heartbeat("10.10.160.8", "i-0one"));
            seed(s, "managers/app-2", heartbeat("10.10.192.9", "i-0two"));
            seed(s, "manager-token", "SWMTKN-1-live");
            writeFileSync(path.join(s, "reachable"), "");
            writeFileSync(path.join(s, "join-pending"), "");
            writeFileSync(path.join(s, "pending-reads"), "3");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.log, /docker swarm leave/);
        assert.equal(r.log.split("\n").filter((l) => l.startsWith("docker swarm join --token")).length, 1, "one join, then waiting for it");
        assert.doesNotMatch(r.log, /docker swarm init/);
    });

    it("a join still pending after the bound fails the bootstrap without leaving", () => {
        const r = runScript(renderSwarmBootstrapScript({ ...base, joinAttempts: 3, joinIntervalSeconds: 5 }), (s) => {
            seed(s, "initialised", "vpc-0live 1690000000");
            seed(s, "managers/app-1", heartbeat("10.10.160.8", "i-0one"));
            seed(s, "manager-token", "SWMTKN-1-live");
            writeFileSync(path.join(s, "reachable"), "");
            writeFileSync(path.join(s, "join-pending"), "");
        });
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.log, /docker swarm leave/);
        assert.match(r.stderr, /still pending/);
    });

    it("a replaced app-0 that reaches no manager fails (bounded) instead of forking a second Swarm", () => {
        const input = { ...base, joinAttempts: 3, joinIntervalSeconds: 5 };
        const r = runScript(renderSwarmBootstrapScript(input), (s) => {
            seed(s, "initialised", "vpc-0live 1690000000");
            seed(s, "manager-addr", "10.10.128.7");
            seed(s, "manager-token", "SWMTKN-1-live");
        });
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.log, /docker swarm init/);
        assert.match(r.stderr, /already initialised/);
        assert.equal(r.log.split("\n").filter((l) => l === "sleep 5").length, 3);
    });

    it("a marker left by a destroyed stack (another VPC) does not stop the first init", () => {
        const r = runScript(renderSwarmBootstrapScript(base), (s) => seed(s, "initialised", "vpc-0gone 1600000000"));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /docker swarm init/);
        assert.equal(r.param("initialised"), "vpc-0live 1700000000");
    });

    it("a manager joins through the first live manager of the published list and publishes its own address", () => {
        const r = runScript(renderSwarmBootstrapScript(app1), (s) => {
            seed(s, "manager-addr", "10.10.128.7");
            seed(s, "managers/app-0", heartbeat("10.10.128.7", "i-0dead"));
            seed(s, "managers/app-2", heartbeat("10.10.192.9", "i-0two"));
            seed(s, "manager-token", "SWMTKN-1-m");
            writeFileSync(path.join(s, "reachable-10.10.192.9"), "");
            writeFileSync(path.join(s, "join-ok"), "");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.joinedVia, "10.10.192.9:2377");
        assert.equal(r.param("managers/app-1"), "addr=10.10.128.5 instance=i-0abc at=1700000000");
        assert.doesNotMatch(r.log, /docker swarm init/);
    });

    it("a worker joins through any live manager when app-0's address is dead", () => {
        const input = { ...base, hostname: "data-1", role: "data" as const, zone: "us-east-1b", join: "worker" as const };
        const r = runScript(renderSwarmBootstrapScript(input), (s) => {
            seed(s, "manager-addr", "10.10.128.7");
            seed(s, "managers/app-1", heartbeat("10.10.160.8", "i-0one"));
            seed(s, "worker-token", "SWMTKN-1-w");
            writeFileSync(path.join(s, "reachable-10.10.160.8"), "");
            writeFileSync(path.join(s, "join-ok"), "");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.joinedVia, "10.10.160.8:2377");
        assert.equal(r.param("managers/data-1"), "", "workers are not managers");
    });

    it("the labelling pass keeps each manager's heartbeat fresh, and repoints a dead manager-addr", () => {
        const r = runScript(renderSwarmLabelerScript(app1), (s) => {
            writeFileSync(path.join(s, "nodes"), "");
            writeFileSync(path.join(s, "by-path"), "");
            seed(s, "manager-addr", "10.10.128.7");
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.param("managers/app-1"), "addr=10.10.128.5 instance=i-0abc at=1700000000");
        assert.equal(r.param("manager-addr"), "10.10.128.5");
        assert.equal(r.param("initialised"), "vpc-0live 1700000000", "a Swarm that runs is marked initialised (stacks deployed before the marker)");
    });
});

describe("labeler script", () => {
    const nodes = ["id-a0 app-0 Ready", "id-d1 data-1 Ready", "id-e0 edge-0 Ready", "id-old data-1 Down"].join("\n") + "\n";
    const wanted = [
        `${base.ssmPrefix}/nodes/app-0\tzone=us-east-1a role=app`,
        `${base.ssmPrefix}/nodes/data-1\tzone=us-east-1b role=data`,
        `${base.ssmPrefix}/nodes/edge-0\tzone=us-east-1a role=app`,
    ].join("\n") + "\n";

    it("labels Ready nodes, refuses a role the hostname does not carry, removes a superseded Down node", () => {
        const r = runScript(renderSwarmLabelerScript(base), (s) => {
            writeFileSync(path.join(s, "nodes"), nodes);
            writeFileSync(path.join(s, "by-path"), wanted);
        });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.log, /docker node update --label-add zone=us-east-1a --label-add role=app id-a0/);
        assert.match(r.log, /docker node update --label-add zone=us-east-1b --label-add role=data id-d1/);
        assert.match(r.log, /docker node update --label-add zone=us-east-1a id-e0\n/, "edge-0 claiming role=app gets only its zone");
        assert.match(r.log, /docker node demote id-old/);
        assert.match(r.log, /docker node rm id-old/);
        assert.doesNotMatch(r.log, /node update[^\n]*id-old/, "a Down node is never labelled");
    });

    it("does nothing on a node that is not a manager", () => {
        const r = runScript(renderSwarmLabelerScript(base), (s) => {
            writeFileSync(path.join(s, "control"), "false\n");
            writeFileSync(path.join(s, "nodes"), nodes);
            writeFileSync(path.join(s, "by-path"), wanted);
        });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.log, /node update|node rm|get-parameters-by-path/);
    });
});

describe("host care units (issue 12 item 8)", () => {
    const tmp = mkdtempSync(path.join(tmpdir(), "ops-host-care-"));
    after(() => rmSync(tmp, { recursive: true, force: true }));

    it("systemd-analyze verify accepts the image prune service and timer; only data hosts get the Redis sysctl", () => {
        for (const role of ["app", "data", "edge"] as const) {
            const input: CloudInitInput = { ...base, hostname: `${role}-1`, role, join: role === "app" ? "manager" : "worker" };
            const files = doc(input).write_files;
            const unit = (name: string) => files.find((f) => f.path === `/etc/systemd/system/${name}`)!.content;
            const dir = path.join(tmp, role);
            mkdirSync(dir, { recursive: true });
            for (const n of ["ops-docker-prune.service", "ops-docker-prune.timer"]) writeFileSync(path.join(dir, n), unit(n));
            if (existsSync("/usr/bin/systemd-analyze") && existsSync("/usr/bin/docker")) {
                const r = spawnSync("systemd-analyze", ["verify", path.join(dir, "ops-docker-prune.service"), path.join(dir, "ops-docker-prune.timer")], { encoding: "utf8" });
                assert.equal(r.status, 0, `systemd-analyze verify: ${r.stdout}${r.stderr}`);
            }
            assert.match(unit("ops-docker-prune.service"), new RegExp(`^ExecStart=/usr/bin/docker image prune --all --force --filter until=${CLOUD_INIT_DEFAULTS.imagePruneUntilHours}h$`, "m"));
            const sysctl = files.find((f) => f.path === CLOUD_INIT_DEFAULTS.redisSysctlPath);
            assert.equal(sysctl !== undefined, role === "data", `${role}: vm.overcommit_memory only where Redis runs`);
            if (sysctl) {
                // The file is what sysctl(8) parses: key = value lines and comments.
                for (const l of sysctl.content.split("\n").filter((x) => x && !x.startsWith("#"))) assert.match(l, /^[a-z_.]+ = \S+$/);
                assert.ok(doc(input).runcmd.some((c) => c.join(" ") === `sysctl -p ${CLOUD_INIT_DEFAULTS.redisSysctlPath}`));
            }
        }
    });
});
