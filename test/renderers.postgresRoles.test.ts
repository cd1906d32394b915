/**
 * Unit tests of renderers/postgresRoles.ts: the roles SQL and the post-init wrapper. The exact SQL runs
 * against real Postgres (via Patroni's post_init) in test/chaos/postgres.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { POSTGRES_ROLES_DEFAULTS, postgresRoles, renderPostInitScript, renderRolesSql } from "../renderers/postgresRoles";

describe("renderRolesSql", () => {
    const sql = renderRolesSql();

    it("creates what is missing, then sets LOGIN and the password from psql variables, never a literal password", () => {
        assert.match(sql, /^SELECT 'CREATE ROLE opscenter_app' WHERE NOT EXISTS \(SELECT FROM pg_catalog\.pg_roles WHERE rolname = 'opscenter_app'\) \\gexec$/m);
        assert.match(sql, /^ALTER ROLE opscenter_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'app_password';$/m);
        assert.match(sql, /^SELECT 'CREATE DATABASE opscenter OWNER opscenter_app' WHERE NOT EXISTS/m);
        assert.match(sql, /^GRANT pg_monitor TO opscenter_monitor;$/m);
        assert.match(sql, new RegExp(`^\\\\getenv app_password ${POSTGRES_ROLES_DEFAULTS.passwordEnv.app}$`, "m"));
        assert.match(sql, /^\\set ON_ERROR_STOP on$/m);
    });

    it("turns statement logging off before any ALTER ROLE ... PASSWORD (Spilo logs DDL)", () => {
        const off = sql.indexOf("SET log_statement = 'none';");
        assert.ok(off > 0 && off < sql.indexOf("PASSWORD :"), "log_statement off first");
    });

    it("rejects names that are not plain identifiers or that Spilo/Postgres already use", () => {
        assert.throws(() => postgresRoles({ appRole: "App" }), /appRole = "App"/);
        assert.throws(() => postgresRoles({ appRole: "x; DROP ROLE postgres" }), /appRole/);
        assert.throws(() => postgresRoles({ monitorRole: "admin" }), /monitorRole = "admin".*already uses/);
        assert.throws(() => postgresRoles({ monitorRole: "opscenter_app" }), /must differ from appRole/);
        assert.throws(() => postgresRoles({ appDatabase: "pg_x" }), /appDatabase/);
    });
});

describe("renderPostInitScript", () => {
    function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
        const r = spawnSync("sh", ["-c", script, "post-init", ...args], { encoding: "utf8", timeout: 10_000, env: { PATH: process.env.PATH, ...env } });
        return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
    }

    it("runs Spilo's post_init.sh first with HUMAN_ROLE and the connection string, then psql with the passwords in the environment", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "post-init-"));
        try {
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            // Stand-ins that record how they were called.
            fs.writeFileSync(path.join(dir, "spilo-post-init.sh"), 'echo "spilo $1 $2"\n');
            fs.writeFileSync(path.join(bin, "psql"), '#!/bin/sh\necho "psql $* app=$OPSCENTER_APP_PASSWORD mon=$OPSCENTER_MONITOR_PASSWORD"\n', { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "app"), "pw-app");
            fs.writeFileSync(path.join(dir, "mon"), "pw-mon");
            const script = renderPostInitScript({ sqlFile: "/etc/ops-center/roles.sql", passwordFiles: { app: path.join(dir, "app"), monitor: path.join(dir, "mon") }, spiloPostInit: path.join(dir, "spilo-post-init.sh") });
            assert.doesNotMatch(script, /pw-/);
            const r = runScript(script, ["dbname=postgres user=postgres host=localhost"], { PATH: `${bin}:${process.env.PATH}` });
            assert.equal(r.code, 0, r.err);
            assert.deepEqual(r.out.trim().split("\n"), [
                "spilo zalandos dbname=postgres user=postgres host=localhost",
                "psql -X -q -d dbname=postgres user=postgres host=localhost -f /etc/ops-center/roles.sql app=pw-app mon=pw-mon",
            ]);
            const missing = runScript(renderPostInitScript({ sqlFile: "/x.sql", passwordFiles: { app: path.join(dir, "nope"), monitor: path.join(dir, "mon") } }), ["dbname=postgres"], { PATH: `${bin}:${process.env.PATH}` });
            assert.equal(missing.code, 1);
            assert.match(missing.err, /nope \(for OPSCENTER_APP_PASSWORD\) is missing/);
            assert.equal(runScript(script, []).code, 2, "no connection string argument");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("rejects unsafe paths", () => {
        assert.throws(() => renderPostInitScript({ sqlFile: "roles.sql", passwordFiles: { app: "/a", monitor: "/b" } }), /sqlFile/);
        assert.throws(() => renderPostInitScript({ sqlFile: "/r.sql", passwordFiles: { app: "/a$(x)", monitor: "/b" } }), /passwordFiles\.app/);
    });
});
