/**
 * Offline plans of a stack at a git ref and at a working tree, each in its own child process (the Pulumi
 * runtime is global state): `node --import tsx scripts/plan.ts <stack> --json`, so both sides use their own
 * program and their own plan printer (secrets redacted). The ref is checked out with `git archive` into a
 * temporary directory that borrows this tree's node_modules (or runs `npm ci` there when asked).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadPlanFile } from "./planFile";
import type { PlanLike } from "./policyRun";

/** The offline plan of `stack` in the checkout at `dir`. */
export function planIn(dir: string, stack: string): PlanLike {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/plan.ts", stack, "--json"], { cwd: dir, encoding: "utf8", maxBuffer: 512 * 1024 * 1024, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`offline plan of ${stack} in ${dir} failed: ${(r.stderr || "").trim().slice(0, 2000)}`);
    return loadPlanFile(r.stdout, stack);
}

/** The offline plan of `stack` at git `ref` of the repository at `root`. */
export function planAtRef(root: string, ref: string, stack: string, opts: { npmCi?: boolean } = {}): PlanLike {
    const sha = execFileSync("git", ["-C", root, "rev-parse", "--verify", `${ref}^{commit}`], { encoding: "utf8" }).trim();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-center-ha-base-"));
    try {
        const tar = spawnSync("git", ["-C", root, "archive", "--format=tar", sha], { maxBuffer: 1024 * 1024 * 1024 });
        if (tar.status !== 0) throw new Error(`git archive ${ref} failed: ${tar.stderr}`);
        const x = spawnSync("tar", ["-x", "-C", dir], { input: tar.stdout });
        if (x.status !== 0) throw new Error(`extracting ${ref} failed: ${x.stderr}`);
        if (opts.npmCi) {
            execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "ignore" });
        } else {
            fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
            const lock = (p: string) => (fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "");
            if (lock(path.join(dir, "package-lock.json")) !== lock(path.join(root, "package-lock.json"))) {
                process.stderr.write(`note: ${ref} has another package-lock.json; planning it with this tree's node_modules (--npm-ci installs its own)\n`);
            }
        }
        return planIn(dir, stack);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
