/**
 * Issue 12 item 9: the edge MASTER keeps the Elastic IP. notify_master retries the association a bounded number of
 * times; the re-check (a systemd timer on each edge host) re-associates whenever keepalived's last state here is
 * MASTER and the EIP is on another instance. Both run for real under sh with stand-ins for the aws CLI (a fake EC2
 * holding the EIP's current instance) and curl (IMDSv2).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderEipRecheck, renderEipRecheckUnits } from "../renderers/eipRecheck";
import { renderKeepalivedConf, renderNotifyMaster } from "../renderers/keepalived";

const SELF = "i-0123456789abcdef0";
const OTHER = "i-0fedcba9876543210";
const ALLOC = "eipalloc-0123456789abcdef0";

/** A scratch host: bin/aws (fake EC2: `holder` file, `fail` = associate failures left), bin/curl (IMDS), the scripts. */
function host(opts: { holder: string; associateFailures?: number; state?: string }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eip-recheck-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(dir, "holder"), opts.holder + "\n");
    fs.writeFileSync(path.join(dir, "fail"), String(opts.associateFailures ?? 0));
    fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh
echo "$*" >> '${dir}/calls'
case "$*" in
  *describe-addresses*) cat '${dir}/holder' ;;
  *associate-address*)
    n=$(cat '${dir}/fail')
    if [ "$n" -gt 0 ]; then echo $((n - 1)) > '${dir}/fail'; echo "Could not connect to the endpoint URL" >&2; exit 255; fi
    while [ "$1" != --instance-id ]; do shift; done
    echo "$2" > '${dir}/holder'; echo '{"AssociationId": "eipassoc-0test"}' ;;
esac
`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\ncase "$*" in *api/token*) echo token;; *instance-id*) echo ${SELF};; esac\n`, { mode: 0o755 });
    const notify = path.join(dir, "notify_master.sh");
    fs.writeFileSync(notify, renderNotifyMaster({ allocationId: ALLOC, region: "us-east-1", awsCli: path.join(bin, "aws"), curlPath: path.join(bin, "curl"), retryDelaySeconds: 0 }), { mode: 0o755 });
    const stateFile = path.join(dir, "state");
    if (opts.state) fs.writeFileSync(stateFile, opts.state + "\n");
    const recheck = path.join(dir, "eip_recheck.sh");
    fs.writeFileSync(recheck, renderEipRecheck({ allocationId: ALLOC, region: "us-east-1", awsCli: path.join(bin, "aws"), curlPath: path.join(bin, "curl"), stateFile, notifyMasterPath: notify }), { mode: 0o755 });
    const sh = (script: string, args: string[] = []) => spawnSync("sh", [script, ...args], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" }, timeout: 20_000 });
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
    return { dir, notify, recheck, stateFile, sh, holder: () => read("holder").trim(), calls: () => read("calls").trim().split("\n").filter(Boolean) };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const mk = (o: Parameters<typeof host>[0]) => {
    const h = host(o);
    dirs.push(h.dir);
    return h;
};

describe("notify_master: bounded retries", () => {
    it("retries a failed association (EC2 API unreachable while the public IP changes) and succeeds", () => {
        const h = mk({ holder: OTHER, associateFailures: 2 });
        const r = h.sh(h.notify);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.equal(h.holder(), SELF);
        assert.equal(h.calls().filter((c) => c.includes("associate-address")).length, 3);
        assert.match(r.stdout, /associated eipalloc-0123456789abcdef0 with i-0123456789abcdef0 \(attempt 3\)/);
    });

    it("gives up after its bound (the re-check takes over)", () => {
        const h = mk({ holder: OTHER, associateFailures: 99 });
        const r = h.sh(h.notify);
        assert.equal(r.status, 1);
        assert.equal(h.calls().filter((c) => c.includes("associate-address")).length, 5);
        assert.equal(h.holder(), OTHER);
    });
});

describe("EIP re-check while MASTER", () => {
    it("records keepalived's state from the generic notify call (INSTANCE name STATE priority)", () => {
        const h = mk({ holder: OTHER });
        for (const s of ["BACKUP", "MASTER", "FAULT"]) {
            const r = h.sh(h.recheck, ["INSTANCE", "VI_EDGE", s, "150"]);
            assert.equal(r.status, 0, r.stderr);
            assert.equal(fs.readFileSync(h.stateFile, "utf8").trim(), s);
        }
        assert.deepEqual(h.calls(), [], "recording a state calls no AWS API");
    });

    it("MASTER without the EIP: re-associates it with this instance", () => {
        const h = mk({ holder: OTHER, state: "MASTER" });
        const r = h.sh(h.recheck);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.equal(h.holder(), SELF);
        assert.match(r.stdout, /MASTER without the EIP \(on i-0fedcba9876543210\): re-associating/);
    });

    it("MASTER after notify_master gave up: the next re-check retries and fixes it", () => {
        const h = mk({ holder: OTHER, associateFailures: 5, state: "MASTER" });
        assert.equal(h.sh(h.notify).status, 1);
        assert.equal(h.holder(), OTHER);
        const r = h.sh(h.recheck);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.equal(h.holder(), SELF);
    });

    it("MASTER with the EIP, or not MASTER: reads at most, never associates", () => {
        for (const [holder, state] of [[SELF, "MASTER"], [OTHER, "BACKUP"], [OTHER, "FAULT"], [OTHER, undefined]] as const) {
            const h = mk({ holder, state });
            const r = h.sh(h.recheck);
            assert.equal(r.status, 0, r.stderr);
            assert.equal(h.holder(), holder);
            assert.ok(!h.calls().some((c) => c.includes("associate-address")), `${state}: no association`);
            if (state !== "MASTER") assert.deepEqual(h.calls(), [], `${state}: no AWS call at all`);
        }
    });

    it("keepalived.conf calls it on every state change; the timer runs it as the script user, bounded", () => {
        const conf = renderKeepalivedConf({ nodes: [{ name: "edge-0", ip: "10.0.0.10", priority: 150 }, { name: "edge-1", ip: "10.0.1.10", priority: 100 }], self: "edge-0", interface: "ens5" });
        assert.match(conf, /^ {4}notify "\/etc\/keepalived\/eip_recheck.sh"$/m);
        const u = renderEipRecheckUnits();
        assert.match(u.service, /^User=keepalived_script$/m);
        assert.match(u.service, /^ExecStart=\/etc\/keepalived\/eip_recheck.sh$/m);
        assert.match(u.service, /^TimeoutStartSec=\d+$/m);
        assert.match(u.timer, /^OnUnitActiveSec=30s$/m);
    });
});
