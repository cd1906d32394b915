import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderSecretEnvStart } from "../renderers/secretEnv";

describe("renderSecretEnvStart", () => {
    it("exports the variable from the file and execs the program (run by sh)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secretenv-"));
        try {
            fs.writeFileSync(path.join(dir, "pw"), "s3cr3t-value");
            const script = renderSecretEnvStart({ vars: { REDIS_PASSWORD: path.join(dir, "pw") }, exec: ["/usr/bin/env"] });
            assert.ok(!script.includes("s3cr3t-value"), "the script holds no secret");
            const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /^REDIS_PASSWORD=s3cr3t-value$/m);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
    it("refuses to start when the secret file is missing", () => {
        const script = renderSecretEnvStart({ vars: { REDIS_PASSWORD: "/nonexistent/pw" }, exec: ["/usr/bin/env"] });
        const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /secret file \/nonexistent\/pw for REDIS_PASSWORD is missing or empty/);
    });
    it("rejects bad input naming the field", () => {
        assert.throws(() => renderSecretEnvStart({ vars: { "bad-name": "/x" }, exec: ["/bin/true"] }), /vars: "bad-name" is not an environment variable name/);
        assert.throws(() => renderSecretEnvStart({ vars: { A: "relative" }, exec: ["/bin/true"] }), /vars.A: "relative" is not an absolute path/);
        assert.throws(() => renderSecretEnvStart({ vars: { A: "/x" }, exec: ["true"] }), /exec: .* must start with the program's absolute path/);
        assert.throws(() => renderSecretEnvStart({ vars: { A: "/x" }, exec: ["/bin/sh", "$(id)"] }), /need quoting/);
    });
});
