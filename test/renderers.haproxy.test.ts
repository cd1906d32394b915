import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HAPROXY_DEFAULTS, leaderCheckPathFor, renderHaproxyCfg } from "../renderers/haproxy";

function section(cfg: string, name: string): string {
    const start = cfg.indexOf(`\n${name}\n`);
    assert.ok(start >= 0, `section ${name} present`);
    const rest = cfg.slice(start + 1);
    const end = rest.indexOf("\n\n");
    return end < 0 ? rest : rest.slice(0, end);
}

describe("renderHaproxyCfg", () => {
    const prod = renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, dnsResolver: HAPROXY_DEFAULTS.dnsResolver });

    it("sends port 5000 to whichever member Patroni reports as primary", () => {
        const s = section(prod, "listen primary");
        assert.match(s, /^ {4}bind \*:5000$/m);
        assert.match(s, /^ {4}option httpchk GET \/primary$/m);
        assert.match(s, /^ {4}http-check expect status 200$/m);
        assert.match(s, /^ {4}default-server inter 1s fastinter 250ms downinter 500ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down on-marked-down shutdown-sessions$/m);
        assert.match(s, /^ {4}server pg-1 pg-1:5432 check port 8008 resolvers swarm init-addr last,libc,none$/m);
        assert.match(s, /^ {4}server pg-2 pg-2:5432 check port 8008 /m);
        assert.match(s, /^ {4}server pg-3 pg-3:5432 check port 8008 /m);
    });

    it("a leader handover: a stopping leader is marked down fast, a promoted member up fast, a refused connection retried elsewhere", () => {
        // A roll stops the leader (bench swarm_postgres_rolling_update): with checks only every 1 s and 3 tries at the
        // same stopped server 1 s apart, each handover cost ~5 s of writes.
        assert.match(prod, /^ {4}option redispatch 1$/m);
        const dflt = section(prod, "listen primary").split("\n").find((l) => l.includes("default-server"))!;
        assert.match(dflt, / fastinter 250ms /);
        assert.match(dflt, / downinter 500ms /);
        assert.match(dflt, / observe layer4 error-limit 1 on-error mark-down /);
        assert.equal(section(prod, "listen replicas").split("\n").find((l) => l.includes("default-server")), dflt);
        assert.throws(() => renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, fastIntervalMs: 50 }), /fastIntervalMs = 50 is invalid: must be an integer from 100 to 60000/);
        assert.throws(() => renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, downIntervalMs: 0 }), /downIntervalMs = 0/);
    });

    it("balances port 5001 over replicas", () => {
        const s = section(prod, "listen replicas");
        assert.match(s, /^ {4}bind \*:5001$/m);
        assert.match(s, /^ {4}option httpchk GET \/replica$/m);
        assert.match(s, /^ {4}balance roundrobin$/m);
    });

    it("serves stats and health on 7000, with a leader health check", () => {
        const s = section(prod, "listen stats");
        assert.match(s, /^ {4}bind \*:7000$/m);
        assert.match(s, /^ {4}stats uri \/stats$/m);
        assert.match(s, /path \/health \}/);
        assert.match(s, /status 503 .* if \{ path \/health\/leader \} \{ nbsrv\(primary\) lt 1 \}/);
    });

    it("re-resolves Swarm service names through Docker's DNS", () => {
        assert.match(section(prod, "resolvers swarm"), /nameserver docker 127\.0\.0\.11:53/);
    });

    it("takes hosts and ports as inputs (loopback test) without a resolver", () => {
        const cfg = renderHaproxyCfg({
            servers: [
                { name: "pg1", host: "127.0.0.1", port: 25101, apiPort: 25111 },
                { name: "pg2", host: "127.0.0.1", port: 25102, apiPort: 25112 },
            ],
            bindAddress: "127.0.0.1",
            primaryPort: 25000,
            replicaPort: 25001,
            statsPort: 25002,
        });
        assert.match(cfg, /^ {4}bind 127\.0\.0\.1:25000$/m);
        assert.match(cfg, /^ {4}server pg2 127\.0\.0\.1:25102 check port 25112$/m);
        assert.doesNotMatch(cfg, /resolvers/);
    });

    it("checks /standby-leader for a standby cluster", () => {
        const cfg = renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, leaderCheckPath: "/standby-leader" });
        assert.match(section(cfg, "listen primary"), /option httpchk GET \/standby-leader/);
    });

    it("a standby region's router checks /leader (standby leader, then the promoted primary); a primary's /primary", () => {
        assert.equal(leaderCheckPathFor("standby"), "/leader");
        assert.equal(leaderCheckPathFor("primary"), "/primary");
        const cfg = renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, leaderCheckPath: leaderCheckPathFor("standby") });
        assert.match(section(cfg, "listen primary"), /option httpchk GET \/leader$/m);
    });

    it("rejects bad inputs, naming the field", () => {
        assert.throws(() => renderHaproxyCfg({ servers: [] }), /servers = \[\]/);
        assert.throws(() => renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, replicaPort: 5000 }), /three different ports/);
        assert.throws(() => renderHaproxyCfg({ servers: [{ name: "a b", host: "h", port: 1, apiPort: 2 }] }), /servers\[0\]\.name = "a b"/);
        assert.throws(() => renderHaproxyCfg({ servers: [{ name: "a", host: "h", port: 70000, apiPort: 2 }] }), /servers\[0\]\.port = 70000/);
        assert.throws(() => renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, fall: 0 }), /fall = 0/);
        assert.throws(() => renderHaproxyCfg({ servers: HAPROXY_DEFAULTS.servers, dnsResolver: "dns" }), /dnsResolver = "dns"/);
    });
});
