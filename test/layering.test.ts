/**
 * The house has no circle: what a deployment runs (index.ts and everything it imports) never imports the
 * offline engine, its mocks or test support, and nothing imports index.ts back.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./harness";

/** Relative imports of one TypeScript file, resolved to repository paths. */
function localImports(file: string): string[] {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const specs = [...text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
    return specs.map((s) => {
        const base = path.normalize(path.join(path.dirname(file), s));
        for (const cand of [`${base}.ts`, path.join(base, "index.ts"), base]) {
            if (fs.existsSync(path.join(ROOT, cand)) && fs.statSync(path.join(ROOT, cand)).isFile()) return cand;
        }
        throw new Error(`${file}: cannot resolve import ${s}`);
    });
}

/** Every repository file reachable from `entry` by relative imports. */
function closure(entry: string): Map<string, string> {
    const seen = new Map<string, string>([[entry, "(entry)"]]);
    const queue = [entry];
    while (queue.length) {
        const f = queue.shift()!;
        for (const dep of localImports(f)) {
            if (!seen.has(dep)) {
                seen.set(dep, f);
                queue.push(dep);
            }
        }
    }
    return seen;
}

describe("module layering", () => {
    it("nothing a deployment runs imports the offline engine, its fixtures or test support", () => {
        const reached = closure("index.ts");
        const bad = [...reached].filter(([f]) => /^(offline|test|bench|scripts)\//.test(f));
        assert.deepEqual(bad.map(([f, by]) => `${f} (imported by ${by})`), []);
        assert.ok(reached.has("components/region.ts"), "the closure walks the program");
    });

    it("lib/ holds only what a deployment runs: no lib/ module imports offline/ or test/", () => {
        for (const f of fs.readdirSync(path.join(ROOT, "lib")).filter((n) => n.endsWith(".ts"))) {
            const bad = localImports(`lib/${f}`).filter((d) => /^(offline|test)\//.test(d));
            assert.deepEqual(bad, [], `lib/${f}`);
        }
    });

    it("the import graph of the program has no cycle", () => {
        const state = new Map<string, "open" | "done">();
        const cycle: string[] = [];
        const visit = (f: string, trail: string[]): boolean => {
            if (state.get(f) === "done") return false;
            if (state.get(f) === "open") {
                cycle.push(...trail.slice(trail.indexOf(f)), f);
                return true;
            }
            state.set(f, "open");
            for (const d of localImports(f)) if (visit(d, [...trail, f])) return true;
            state.set(f, "done");
            return false;
        };
        visit("index.ts", []);
        assert.deepEqual(cycle, []);
    });
});
