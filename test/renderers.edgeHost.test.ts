import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { edgeParameterNames, renderKeepalivedApplyDocument, renderKeepalivedApplyScript } from "../renderers/edgeHost";
import { renderEipRecheck } from "../renderers/eipRecheck";
import { renderKeepalivedAuth, renderKeepalivedConf, renderNotifyMaster } from "../renderers/keepalived";

/** A non-loopback interface of this machine (keepalived refuses VRRP on lo, even in a config test). */
const iface =
    spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
        .stdout.split("\n")
        .map((l) => l.split(": ")[1]?.split("@")[0])
        .find((n) => n && n !== "lo") ?? "eth0";

const nodes = [
    { name: "edge-1", ip: "10.10.0.10", priority: 150 },
    { name: "edge-2", ip: "10.10.1.10", priority: 100 },
];

/**
 * Runs the rendered apply script with stand-ins for the host's aws CLI (serving the rendered files as the
 * SSM parameters), the metadata service (curl) and systemctl, and the REAL keepalived for the config test.
 */
function runApply(confFor: (etcDir: string) => string): { status: number | null; stdout: string; stderr: string; dir: string; calls: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-apply-"));
    const bin = path.join(dir, "bin");
    const params = path.join(dir, "params");
    fs.mkdirSync(bin);
    fs.mkdirSync(params);
    const prefix = "/ops-center-ha/us-east-1/edge";
    const names = edgeParameterNames(prefix, "i-0123456789abcdef0");
    const conf = confFor(path.join(dir, "etc"));
    const files: Record<string, string> = {
        [names.conf]: conf,
        [names.notify]: renderNotifyMaster({ allocationId: "eipalloc-0123456789abcdef0", region: "us-east-1", awsCli: "/usr/bin/aws" }),
        [names.auth]: renderKeepalivedAuth("Ab3dEf7h"),
        [names.recheck]: renderEipRecheck({ allocationId: "eipalloc-0123456789abcdef0", region: "us-east-1", awsCli: "/usr/bin/aws" }),
    };
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(params, name.replace(/\//g, "_")), text);
    fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\n# aws ssm get-parameter --region R --name NAME ...\nwhile [ "$1" != --name ]; do shift; done\ncat "${params}/$(echo "$2" | tr / _)"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\ncase "$*" in *api/token*) echo token;; *instance-id*) echo i-0123456789abcdef0;; esac\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/sh\necho "systemctl $*" >> ${dir}/calls\nexit 0\n`, { mode: 0o755 });
    const script = renderKeepalivedApplyScript({ parameterPrefix: prefix, region: "us-east-1", configDir: path.join(dir, "etc"), awsCli: path.join(bin, "aws"), settleSeconds: 2,
        stateDir: path.join(dir, "state"), scriptUser: "nobody", systemdDir: path.join(dir, "systemd") });
    fs.mkdirSync(path.join(dir, "systemd"));
    // The script user must exist for keepalived's config test (enable_script_security).
    const r = spawnSync("sh", ["-c", script], { encoding: "utf8", env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` }, timeout: 30_000 });
    const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8") : "";
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, dir, calls };
}

describe("keepalived apply script (SSM association, one edge host at a time)", () => {
    it("installs the files, has the real keepalived check the config, reloads and reports success", () => {
        let conf = "";
        const r = runApply((etc) => {
            conf = renderKeepalivedConf({ nodes, self: "edge-1", interface: iface, scriptUser: "nobody", authFile: path.join(etc, "auth.conf"), notifyMasterPath: path.join(etc, "notify_master.sh") });
            return conf;
        });
        try {
            assert.equal(r.status, 0, r.stderr);
            const etc = path.join(r.dir, "etc");
            assert.equal(fs.readFileSync(path.join(etc, "keepalived.conf"), "utf8"), conf);
            assert.equal(fs.statSync(path.join(etc, "auth.conf")).mode & 0o777, 0o600, "the auth include is root-only");
            assert.equal(fs.statSync(path.join(etc, "notify_master.sh")).mode & 0o777, 0o755);
            assert.match(r.calls, /systemctl reload-or-restart keepalived/);
            // The EIP re-check (issue 12 item 9): its script, a state dir the script user owns, its timer enabled.
            assert.equal(fs.statSync(path.join(etc, "eip_recheck.sh")).mode & 0o777, 0o755);
            assert.equal(fs.statSync(path.join(r.dir, "state")).uid, 65534, "state dir owned by the script user");
            assert.match(fs.readFileSync(path.join(r.dir, "systemd", "ops-eip-recheck.service"), "utf8"), /^User=nobody$/m);
            assert.match(fs.readFileSync(path.join(r.dir, "systemd", "ops-eip-recheck.timer"), "utf8"), /^OnUnitActiveSec=30s$/m);
            assert.match(r.calls, /systemctl enable --now ops-eip-recheck\.timer/);
            assert.match(r.stdout, /keepalived running with the new config on i-0123456789abcdef0/);
        } finally {
            fs.rmSync(r.dir, { recursive: true, force: true });
        }
    });

    it("keeps the running config and fails (stopping the association) when keepalived rejects the new one", () => {
        const r = runApply(() => "vrrp_instance broken {\n  this is not keepalived syntax\n");
        try {
            assert.equal(r.status, 1);
            assert.match(r.stderr, /keepalived rejected the new config \(exit \d+\); keeping the running one/);
            assert.doesNotMatch(r.calls, /reload/);
            assert.ok(!fs.existsSync(path.join(r.dir, "etc", "keepalived.conf")));
        } finally {
            fs.rmSync(r.dir, { recursive: true, force: true });
        }
    });

    it("the SSM document wraps exactly that script and takes a content hash", () => {
        const input = { parameterPrefix: "/ops-center-ha/us-east-1/edge", region: "us-east-1" };
        const doc = JSON.parse(renderKeepalivedApplyDocument(input));
        assert.equal(doc.schemaVersion, "2.2");
        assert.deepEqual(Object.keys(doc.parameters), ["ContentHash"]);
        assert.equal(doc.mainSteps[0].action, "aws:runShellScript");
        assert.equal(doc.mainSteps[0].inputs.runCommand.join("\n"), renderKeepalivedApplyScript(input));
    });

    it("rejects a bad prefix, region or settle time, naming the field", () => {
        assert.throws(() => renderKeepalivedApplyScript({ parameterPrefix: "edge", region: "us-east-1" }), /parameterPrefix: "edge" is not allowed/);
        assert.throws(() => renderKeepalivedApplyScript({ parameterPrefix: "/a/b", region: "east" }), /region: "east" is not an AWS region/);
        assert.throws(() => renderKeepalivedApplyScript({ parameterPrefix: "/a/b", region: "us-east-1", settleSeconds: 0 }), /settleSeconds: 0 is not allowed/);
    });
});
