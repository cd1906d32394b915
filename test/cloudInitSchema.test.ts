/**
 * The user data every host of both stacks is launched with, taken from the registered EC2 instances (exactly
 * what would ship), checked by the real cloud-init's schema validator (Debian's cloud-init 22.4).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ofType, planStack, STACKS, unwrap } from "./harness";

function schemaCheck(text: string): { status: number | null; out: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloud-init-"));
    try {
        const file = path.join(dir, "user-data.yaml");
        fs.writeFileSync(file, text);
        const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8", timeout: 60_000 });
        assert.equal(r.error, undefined, "cloud-init is not installed: apt-get install -y cloud-init (.ci/run does this)");
        return { status: r.status, out: r.stdout + r.stderr };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("cloud-init user data, validated by cloud-init itself", () => {
    for (const stack of STACKS) {
        it(`${stack}: every host's user data is a valid cloud-config`, () => {
            const instances = ofType(planStack(stack), "aws:ec2/instance:Instance");
            assert.ok(instances.length >= 7);
            for (const i of instances) {
                const text = String(unwrap(i.inputs.userData));
                assert.ok(text.startsWith("#cloud-config\n"), `${i.name}: not a cloud-config`);
                const r = schemaCheck(text);
                assert.equal(r.status, 0, `${i.name}: ${r.out}`);
                assert.match(r.out, /Valid cloud-config/);
            }
        });
    }
    it("the validator does reject a broken document (the check has teeth)", () => {
        const r = schemaCheck("#cloud-config\nruncmd: 5\n");
        assert.notEqual(r.status, 0);
        assert.match(r.out, /runcmd: 5 is not of type 'array'/);
    });
});
