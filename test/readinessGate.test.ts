/**
 * The Docker provider's readiness gate (components/swarmHosts.ts): the provider's host resolves only once
 * app-0 has published its own instance id after `swarm init`; a stale value (a destroyed stack's manager)
 * keeps the gate shut, and the bound turns into an error that says where to look.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "./harness";

function probe(mode: "ready" | "stale"): string {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test/support/gateProbe.ts"), mode], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    // Not the exit status: after a failed resource the Pulumi runtime reports its pending promises and exits non-zero.
    assert.match(r.stdout, /^(host|error) /m, r.stderr);
    return r.stdout;
}

describe("Swarm readiness gate", () => {
    it("opens when app-0 has published its own instance id: the provider gets ssh://<user>@<app-0>", () => {
        assert.match(probe("ready"), /^host ssh:\/\/admin@\d+\.\d+\.\d+\.\d+$/m);
    });
    it("stays shut on a stale manager id, and fails after its bound with a pointer to the logs", () => {
        const out = probe("stale");
        assert.doesNotMatch(out, /^host /m);
        assert.match(out, /did not publish \/ops-center-ha\/us-east-1\/swarm\/manager-instance-id within/);
        assert.match(out, /holds i-0stale0000000000 \(a previous manager\)/);
        assert.match(out, /journalctl -u ops-swarm-bootstrap/);
    });
});
