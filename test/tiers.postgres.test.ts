/**
 * Mock-engine tests of the Postgres tier's wiring, both stacks (issue 8, items 4, 6, 7 and 11):
 * - the backend and postgres_exporter log in with roles that Patroni's post_init creates with LOGIN, with the
 *   passwords of the same Swarm secrets the Spilo members mount (Spilo's own `admin` is NOLOGIN);
 * - Patroni member names (application_name) are unique across the two regions;
 * - the Spilo container health check asks Patroni's /liveness, not /health (503 while a replica builds);
 * - the standby region streams through every primary data host, not the first one only.
 * The roles SQL itself runs against real Postgres in test/chaos/postgres.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { OfflinePlan } from "../offline/engine";
import { mockPrimaryOutputs } from "../offline/primaryFixture";
import { Json, mounted, planStack, ROOT, service } from "./harness";

/** The Swarm secret name mounted at /run/secrets/<file> by `svc`. */
function secretAt(svc: Json, file: string): string {
    const s = (svc.taskSpec.containerSpec.secrets ?? []).find((x: Json) => x.fileName === `/run/secrets/${file}`);
    if (!s) throw new Error(`${svc.name} mounts no secret at /run/secrets/${file}`);
    return s.secretName;
}
const spiloConfig = (plan: OfflinePlan, svc: string) => parse(service(plan, svc).taskSpec.containerSpec.env.SPILO_CONFIGURATION);

const plans = new Map<string, OfflinePlan>();
const plan = (stack: string) => plans.get(stack) ?? plans.set(stack, planStack(stack)).get(stack)!;

for (const stack of ["us-east-1", "us-west-2"] as const) {
    describe(`postgres wiring of ${stack}`, () => {
        it("the backend logs in as the application role, which the post-init creates with LOGIN and its own database", () => {
            const p = plan(stack);
            const pg = service(p, "opscenter-pg-1");
            const backend = service(p, "opscenter-backend-blue");
            const env = backend.taskSpec.containerSpec.env;
            assert.notEqual(env.DATABASE_USER, "admin", "Spilo's post_init.sh makes admin NOLOGIN");
            assert.equal(env.DATABASE_USER, "opscenter_app");
            assert.equal(env.DATABASE_NAME, "opscenter");
            const sql = mounted(p, pg, "/etc/ops-center/roles.sql");
            assert.match(sql, new RegExp(`^ALTER ROLE ${env.DATABASE_USER} WITH LOGIN .* PASSWORD :'app_password';$`, "m"));
            assert.match(sql, new RegExp(`CREATE DATABASE ${env.DATABASE_NAME} OWNER ${env.DATABASE_USER}`));
            // The password the backend reads is the one the post-init sets: the same Swarm secret.
            assert.equal(secretAt(backend, "db_password"), secretAt(pg, "pg_app_password"));
            // Patroni runs the post-init at bootstrap; it runs Spilo's own post_init.sh first, then the roles SQL.
            const postInit = spiloConfig(p, "opscenter-pg-1").bootstrap.post_init;
            assert.equal(postInit, "/bin/sh /etc/ops-center/post-init.sh");
            const script = mounted(p, pg, "/etc/ops-center/post-init.sh");
            assert.match(script, /^\/bin\/bash \/scripts\/post_init\.sh "\$\{HUMAN_ROLE:-zalandos\}" "\$conn"$/m);
            assert.match(script, /-f "\/etc\/ops-center\/roles\.sql"/);
        });

        it("postgres_exporter logs in as the monitoring role (pg_monitor), not admin", () => {
            const p = plan(stack);
            const pg = service(p, "opscenter-pg-1");
            const exporter = service(p, "opscenter-postgres-exporter");
            const env = exporter.taskSpec.containerSpec.env;
            assert.equal(env.DATA_SOURCE_USER, "opscenter_monitor");
            const sql = mounted(p, pg, "/etc/ops-center/roles.sql");
            assert.match(sql, new RegExp(`^ALTER ROLE ${env.DATA_SOURCE_USER} WITH LOGIN .* PASSWORD :'monitor_password';$`, "m"));
            assert.match(sql, new RegExp(`^GRANT pg_monitor TO ${env.DATA_SOURCE_USER};$`, "m"));
            const file = env.DATA_SOURCE_PASS_FILE.replace("/run/secrets/", "");
            assert.equal(secretAt(exporter, file), secretAt(pg, "pg_monitor_password"));
        });

        it("the Spilo health check asks Patroni's /liveness (200 while a replica builds), never /health", () => {
            for (const name of ["opscenter-pg-1", "opscenter-pg-2", "opscenter-pg-3"]) {
                const tests: string[] = service(plan(stack), name).taskSpec.containerSpec.healthcheck.tests;
                assert.ok(tests.some((t) => /^http:\/\/localhost:8008\/liveness$/.test(t)), `${name}: ${tests.join(" ")}`);
                assert.ok(!tests.some((t) => /\/health$/.test(t)), `${name} must not be killed while /health answers 503`);
            }
        });
    });
}

describe("postgres across the two regions", () => {
    it("Patroni member names (application_name) are unique across the regions, in one scope", () => {
        const names = (stack: string) => ["opscenter-pg-1", "opscenter-pg-2", "opscenter-pg-3"].map((s) => spiloConfig(plan(stack), s).postgresql.name as string);
        const east = names("us-east-1");
        const west = names("us-west-2");
        assert.equal(new Set(east).size, 3);
        assert.equal(new Set(west).size, 3);
        for (const n of west) assert.ok(!east.includes(n), `${n} is a member name in both regions: the standby region's leader could satisfy the primary's synchronous_standby_names`);
        const scope = (stack: string) => service(plan(stack), "opscenter-pg-1").taskSpec.containerSpec.env.SCOPE;
        assert.equal(scope("us-east-1"), scope("us-west-2"));
    });

    it("the standby cluster streams through every primary data host (libpq multi-host), not the first one only", () => {
        const primaryOut = plan("us-east-1").outputs.postgresLeaderAddresses as unknown[];
        assert.ok(Array.isArray(primaryOut), "the primary exports every data host's address");
        assert.equal(primaryOut.length, 3, "one per data host");
        const fixture = mockPrimaryOutputs(ROOT, "organization/ops-center-ha/us-east-1").postgresLeaderAddresses as string[];
        assert.equal(fixture.length, 3);
        for (const name of ["opscenter-pg-1", "opscenter-pg-2", "opscenter-pg-3"]) {
            const sc = spiloConfig(plan("us-west-2"), name).bootstrap.dcs.standby_cluster;
            assert.deepEqual(String(sc.host).split(","), fixture, "host lists every primary data host, in order");
            assert.equal(sc.port, 5000, "HAProxy's leader port, published on every primary node");
            assert.equal(service(plan("us-west-2"), name).taskSpec.containerSpec.sysctl["net.ipv4.tcp_syn_retries"], "2");
        }
    });
});
