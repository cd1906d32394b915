/**
 * The Docker provider's readiness gate (components/swarmHosts.ts): the provider's host resolves only once a
 * manager of this stack has published a live heartbeat (`<prefix>/managers/<hostname>`), and it is the first such
 * manager, so a dead app-0 does not stop the provider (issue 12 item 1); a stale entry (the instance a replaced host
 * had) keeps the gate shut, and the bound turns into an error that says where to look.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "./harness";

function probe(mode: "ready" | "stale" | "app0-dead" | "legacy"): { stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test/support/gateProbe.ts"), mode], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    // Not the exit status: after a failed resource the Pulumi runtime reports its pending promises and exits non-zero.
    assert.match(r.stdout, /^(host|error) /m, r.stderr);
    return { stdout: r.stdout, stderr: r.stderr };
}

describe("Swarm readiness gate", () => {
    const ipOf = (out: string, host: string) => new RegExp(`^managers .*\\b${host}=(\\S+)`, "m").exec(out)![1];
    it("opens when app-0 has published a live heartbeat: the provider gets ssh://<user>@<app-0>", () => {
        const out = probe("ready").stdout;
        assert.match(out, /^host ssh:\/\/admin@\d+\.\d+\.\d+\.\d+$/m);
        assert.match(out, new RegExp(`^host ssh://admin@${ipOf(out, "app-0").replace(/\./g, "\\.")}$`, "m"));
    });
    it("reaches the Swarm through app-1 when app-0 is dead (no heartbeat)", () => {
        const out = probe("app0-dead").stdout;
        assert.match(out, new RegExp(`^host ssh://admin@${ipOf(out, "app-1").replace(/\./g, "\\.")}$`, "m"));
    });
    it("stays shut on a stale heartbeat, and fails after its bound with a pointer to the logs", () => {
        const out = probe("stale").stdout;
        assert.doesNotMatch(out, /^host /m);
        assert.match(out, /no Swarm manager published a live heartbeat under \/ops-center-ha\/us-east-1\/swarm\/managers\/ within/);
        assert.match(out, /app-0: heartbeat of i-0stale0000000000, not of \S+ \(a replaced host\)/);
        assert.match(out, /journalctl -u ops-swarm-bootstrap/);
    });
    it("a stack deployed before the heartbeats (only the legacy manager-instance-id = app-0): app-0 at the first look, with a warning", () => {
        const { stdout, stderr } = probe("legacy");
        assert.match(stdout, new RegExp(`^host ssh://admin@${ipOf(stdout, "app-0").replace(/\./g, "\\.")}$`, "m"));
        // At once: one gate attempt (one read of each of the three managers' heartbeats), no waiting out the bound.
        assert.match(stdout, /^heartbeat-reads 3$/m);
        assert.match(stderr, /no Swarm manager publishes a heartbeat yet .*using app-0 .*legacy \/ops-center-ha\/us-east-1\/swarm\/manager-instance-id.*rollHost/);
    });
});
