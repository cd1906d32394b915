/**
 * Issue 12 item 7: idle connections must outlive Swarm's service VIP, which drops a flow idle for 900 s
 * (IPVS; moby/moby#31208). Every hop that crosses a VIP sends TCP keepalives well before that, read from the
 * plan of both stacks (the files and environment the containers really get). test/chaos/keepalives.test.ts
 * hands the same values to the real HAProxy, Postgres, libpq and Redis.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { SWARM_VIP_IDLE_TIMEOUT_SECONDS, keepaliveDeadAfterSeconds } from "../lib/keepalive";
import { mounted, ofType, planStack, service, SERVICE, STACKS } from "./harness";

const seconds = (v: string) => {
    const m = /^(\d+)(ms|s|m)?$/.exec(v);
    if (!m) throw new Error(`not a duration: ${v}`);
    return Number(m[1]) * (m[2] === "m" ? 60 : m[2] === "ms" ? 0.001 : 1);
};
const below = (what: string, s: number) => assert.ok(s > 0 && s < SWARM_VIP_IDLE_TIMEOUT_SECONDS, `${what} = ${s} s must be below the VIP's ${SWARM_VIP_IDLE_TIMEOUT_SECONDS} s`);

for (const stack of STACKS) {
    describe(`keepalives below the Swarm VIP idle timeout: ${stack}`, () => {
        const plan = () => planStack(stack);

        it("HAProxy: TCP keepalives towards clients and Postgres (clitcpka/srvtcpka), probing before 900 s idle", () => {
            const cfg = mounted(plan(), service(plan(), "opscenter-postgres-router"), "/usr/local/etc/haproxy/haproxy.cfg");
            const defaults = cfg.slice(cfg.indexOf("\ndefaults\n"), cfg.indexOf("\n\n", cfg.indexOf("\ndefaults\n") + 1));
            for (const side of ["cli", "srv"]) {
                assert.match(defaults, new RegExp(`^ {4}option ${side}tcpka$`, "m"), `option ${side}tcpka`);
                const get = (k: string) => new RegExp(`^ {4}${side}tcpka-${k} (\\S+)$`, "m").exec(defaults)?.[1];
                const idle = get("idle"), intvl = get("intvl"), cnt = get("cnt");
                assert.ok(idle && intvl && cnt, `${side}tcpka-idle/intvl/cnt set (else the kernel's 7200 s applies)`);
                below(`${side}tcpka-idle`, seconds(idle));
                below(`${side}tcpka dead after`, seconds(idle) + seconds(intvl) * Number(cnt));
            }
        });

        it("Postgres: tcp_keepalives_idle/interval/count in every member's bootstrap.dcs parameters", () => {
            for (const name of ["opscenter-pg-1", "opscenter-pg-2"]) {
                const env = service(plan(), name).taskSpec.containerSpec.env;
                const p = parse(env.SPILO_CONFIGURATION).bootstrap.dcs.postgresql.parameters;
                below(`${name} tcp_keepalives_idle`, Number(p.tcp_keepalives_idle));
                below(`${name} keepalive dead after`, keepaliveDeadAfterSeconds({ idleSeconds: Number(p.tcp_keepalives_idle), intervalSeconds: Number(p.tcp_keepalives_interval), count: Number(p.tcp_keepalives_count) }));
            }
        });

        it("backend: libpq keepalives in the connection options it is given", () => {
            for (const color of ["blue", "green"]) {
                const env = service(plan(), `opscenter-backend-${color}`).taskSpec.containerSpec.env;
                const opts = String(env.DATABASE_CONNECT_OPTIONS ?? "");
                const kv = Object.fromEntries(opts.split(/\s+/).filter(Boolean).map((x) => x.split("=")));
                assert.equal(kv.keepalives, "1", "libpq keepalives on");
                below("keepalives_idle", Number(kv.keepalives_idle));
                below("libpq dead after", Number(kv.keepalives_idle) + Number(kv.keepalives_interval) * Number(kv.keepalives_count));
            }
        });

        it("Redis: every node renders tcp-keepalive below 900 s", () => {
            const nodes = ofType(plan(), SERVICE).map((s) => String(s.inputs.name)).filter((n) => /^opscenter-redis-\d+$/.test(n));
            assert.ok(nodes.length >= 1);
            for (const n of nodes) {
                const conf = mounted(plan(), service(plan(), n), "/usr/local/etc/redis/redis.conf");
                const v = /^tcp-keepalive (\d+)$/m.exec(conf)?.[1];
                assert.ok(v, `${n}: tcp-keepalive rendered`);
                below(`${n} tcp-keepalive`, Number(v));
            }
        });
    });
}
