import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    KEEPALIVED_DEFAULTS,
    KeepalivedInput,
    renderKeepalivedAuth,
    renderKeepalivedConf,
    renderNotifyMaster,
} from "../renderers/keepalived";

const nodes = [
    { name: "edge-a", ip: "10.0.1.10", priority: KEEPALIVED_DEFAULTS.priorities[0] },
    { name: "edge-b", ip: "10.0.2.10", priority: KEEPALIVED_DEFAULTS.priorities[1] },
];
const base: KeepalivedInput = { nodes, self: "edge-a", interface: "ens5" };
const lines = (text: string) => text.split("\n").map((l) => l.trim());

describe("renderKeepalivedConf", () => {
    it("speaks unicast to the other node only, from this node's address", () => {
        const l = lines(renderKeepalivedConf(base));
        assert.ok(l.includes("unicast_src_ip 10.0.1.10"));
        const i = l.indexOf("unicast_peer {");
        assert.deepEqual(l.slice(i, i + 3), ["unicast_peer {", "10.0.2.10", "}"]);
        const b = lines(renderKeepalivedConf({ ...base, self: "edge-b" }));
        assert.ok(b.includes("unicast_src_ip 10.0.2.10"));
        assert.ok(b.includes("priority 100"));
    });

    it("starts BACKUP with nopreempt, priority from config, advert_int 1, router ids", () => {
        const l = lines(renderKeepalivedConf(base));
        for (const want of ["state BACKUP", "nopreempt", "priority 150", "advert_int 1", "virtual_router_id 51", "interface ens5", "router_id edge-a"]) {
            assert.ok(l.includes(want), want);
        }
        assert.ok(!lines(renderKeepalivedConf({ ...base, nopreempt: false })).includes("nopreempt"));
    });

    it("enables script security and checks Traefik's ping every second, fall 2 rise 2, FAULT on failure", () => {
        const l = lines(renderKeepalivedConf(base));
        assert.ok(l.includes("enable_script_security"));
        assert.ok(l.includes("script_user keepalived_script"));
        assert.ok(l.includes('script "/usr/bin/curl -fsS --max-time 1 http://127.0.0.1:8082/ping"'));
        for (const want of ["interval 1", "fall 2", "rise 2", "chk_traefik"]) assert.ok(l.includes(want), want);
        assert.ok(!l.some((x) => x.startsWith("weight")));
        assert.ok(lines(renderKeepalivedConf({ ...base, checkWeight: -60 })).includes("weight -60"));
        assert.ok(l.includes('notify_master "/etc/keepalived/notify_master.sh"'));
    });

    it("never contains the password: auth_pass comes from the root-only include file", () => {
        const text = renderKeepalivedConf(base);
        const l = lines(text);
        assert.equal(l[l.findIndex((x) => x.startsWith("includea"))], "includea /etc/keepalived/auth.conf");
        assert.ok(l.includes("auth_type PASS"));
        assert.ok(l.includes("auth_pass ${AUTH_PASS}"));
        assert.equal(renderKeepalivedAuth("Abcd1234"), "$AUTH_PASS=Abcd1234\n");
        assert.doesNotMatch(text, /Abcd1234/);
    });

    it("renders virtual_ipaddress only when addresses are given (empty in AWS)", () => {
        assert.doesNotMatch(renderKeepalivedConf(base), /virtual_ipaddress \{/);
        const l = lines(renderKeepalivedConf({ ...base, virtualIpAddresses: ["10.250.0.100/24"] }));
        const i = l.indexOf("virtual_ipaddress {");
        assert.deepEqual(l.slice(i, i + 3), ["virtual_ipaddress {", "10.250.0.100/24 dev ens5", "}"]);
    });

    it("rejects bad inputs, naming the field", () => {
        const bad = (over: Partial<KeepalivedInput>, re: RegExp) => assert.throws(() => renderKeepalivedConf({ ...base, ...over }), re);
        bad({ nodes: [nodes[0], { ...nodes[1], priority: 150 }] }, /priority: 150 is used twice/);
        bad({ nodes: [nodes[0], { ...nodes[1], priority: 255 }] }, /nodes\[1\].priority: 255/);
        bad({ nodes: [nodes[0], { ...nodes[1], priority: 0 }] }, /nodes\[1\].priority: 0/);
        bad({ advertInt: 0 }, /advertInt: 0/);
        bad({ advertInt: 256 }, /advertInt: 256/);
        bad({ virtualRouterId: 0 }, /virtualRouterId: 0/);
        bad({ virtualRouterId: 256 }, /virtualRouterId: 256/);
        bad({ self: "edge-c" }, /self: 'edge-c'/);
        bad({ nodes: [nodes[0]] }, /nodes: 1 nodes/);
        bad({ nodes: [nodes[0], { ...nodes[1], ip: "10.0.2" }] }, /nodes\[1\].ip: '10.0.2'/);
        bad({ interface: "eth0; rm" }, /interface: 'eth0; rm'/);
        bad({ virtualIpAddresses: ["10.0.0.1"] }, /virtualIpAddresses\[0\]/);
    });
});

describe("renderKeepalivedAuth", () => {
    it("accepts exactly 8 characters [A-Za-z0-9]", () => {
        assert.throws(() => renderKeepalivedAuth("Abcd123"), /authPass: a value of length 7/);
        assert.throws(() => renderKeepalivedAuth("Abcd12345"), /authPass: a value of length 9/);
        assert.throws(() => renderKeepalivedAuth("Abcd12$4"), /exactly 8 characters/);
    });
});

describe("renderNotifyMaster", () => {
    const input = { allocationId: "eipalloc-0123456789abcdef0", region: "us-east-1" };

    it("associates the EIP with this instance (IMDSv2) with --allow-reassociation, bounded retries", () => {
        const s = renderNotifyMaster(input);
        assert.match(s, /^#!\/bin\/sh\n/);
        assert.match(s, /"\$AWS" ec2 associate-address --allocation-id "\$ALLOCATION_ID" --instance-id "\$iid" \\\n\s+--allow-reassociation --region "\$REGION"/);
        assert.match(s, /ALLOCATION_ID='eipalloc-0123456789abcdef0'/);
        assert.match(s, /REGION='us-east-1'/);
        assert.match(s, /AWS='\/usr\/local\/bin\/aws'/);
        assert.match(s, /-X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "\$IMDS\/latest\/api\/token"/);
        assert.match(s, /X-aws-ec2-metadata-token: \$token" "\$IMDS\/latest\/meta-data\/instance-id"/);
        assert.match(s, /MAX_ATTEMPTS=5\n/);
        assert.match(s, /logger -t 'keepalived-notify'/);
    });

    it("takes the aws CLI path and the IMDS endpoint as inputs", () => {
        const s = renderNotifyMaster({ ...input, awsCli: "/tmp/x/aws", imdsEndpoint: "http://127.0.0.1:8083" });
        assert.match(s, /AWS='\/tmp\/x\/aws'/);
        assert.match(s, /IMDS='http:\/\/127.0.0.1:8083'/);
    });

    it("rejects bad inputs, naming the field", () => {
        assert.throws(() => renderNotifyMaster({ ...input, allocationId: "eip-123" }), /allocationId: 'eip-123'/);
        assert.throws(() => renderNotifyMaster({ ...input, region: "useast1" }), /region: 'useast1'/);
        assert.throws(() => renderNotifyMaster({ ...input, awsCli: "aws" }), /awsCli: 'aws'/);
        assert.throws(() => renderNotifyMaster({ ...input, maxAttempts: 0 }), /maxAttempts: 0/);
    });
});
