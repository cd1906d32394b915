/**
 * OCHAOS_PG_PORT_OFFSET moves every port of the Postgres chaos scenarios (test/chaos/patroniCluster.ts), so two of
 * them can run side by side on one machine: the primary's PORTS, the standby region's member of
 * postgresStandby.test.ts, regionPair.ts's standby region and pitrCluster.ts's restored members.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "./harness";

function portTables(offset: string): Record<string, unknown> {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test/support/chaosPorts.ts")], {
        cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, OCHAOS_PG_PORT_OFFSET: offset },
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Every port in a table, with its path ("PORTS.pg[0]"), in a stable order. */
function flatten(v: unknown, at: string, out: [string, number][] = []): [string, number][] {
    if (typeof v === "number") out.push([at, v]);
    else if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${at}[${i}]`, out));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) flatten(x, at ? `${at}.${k}` : k, out);
    return out;
}

describe("OCHAOS_PG_PORT_OFFSET", () => {
    const base = flatten(portTables("0"), "");
    const shifted = new Map(flatten(portTables("1000"), ""));

    it("the Postgres scenarios' ports are distinct, in 25000-25499, including the standby member's", () => {
        assert.ok(base.some(([k]) => k === "PORTS.standbyPg") && base.some(([k]) => k === "PORTS.standbyApi"), "the standby member's ports are in PORTS");
        const seen = new Map<number, string>();
        for (const [k, p] of base) {
            assert.ok(p >= 25000 && p <= 25499, `${k} = ${p}`);
            assert.equal(seen.get(p), undefined, `${k} and ${seen.get(p)} are both ${p}`);
            seen.set(p, k);
        }
    });

    it("moves every one of them, the standby region's and the restored cluster's too", () => {
        const unmoved = base.filter(([k, p]) => shifted.get(k) !== p + 1000).map(([k, p]) => `${k} ${p} -> ${shifted.get(k)}`);
        assert.deepEqual(unmoved, []);
    });
});
