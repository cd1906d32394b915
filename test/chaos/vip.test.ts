/**
 * Chaos test for the edge VIP: real keepalived from the rendered keepalived.conf in two network namespaces.
 * chk_traefik runs the rendered curl command against a tiny ping server in each namespace; the rendered
 * notify_master.sh runs with the aws CLI replaced by a recording stub (test only).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ALLOCATION_ID, REGION, VIP, VipCluster } from "./vipCluster";
import { run, stopAll, stopDaemon } from "./support";

describe("edge VIP (keepalived, unicast VRRP)", () => {
    const clusters: VipCluster[] = [];
    const start = async (...args: Parameters<typeof VipCluster.start>) => {
        const c = await VipCluster.start(...args);
        clusters.push(c);
        return c;
    };
    after(async () => {
        for (const c of clusters) await c.stop();
        await stopAll();
    });

    it("moves the VIP to the peer when the master's keepalived is killed -9, and the peer moves the EIP", async () => {
        const c = await start();
        const master = await c.waitForMaster();
        const backup = c.other(master);
        assert.equal(c.hasVip(backup), false);
        await c.waitForAssociation(master);

        c.crash(master);
        await c.waitVipOn(backup);
        const call = await c.waitForAssociation(backup);
        assert.equal(
            call,
            `ec2 associate-address --allocation-id ${ALLOCATION_ID} --instance-id ${backup.instanceId} --allow-reassociation --region ${REGION}`,
        );
        assert.match(c.log(backup), /Entering MASTER STATE/);
        await c.stop();
    });

    it("moves the VIP when Traefik's ping fails on the master (chk_traefik puts it in FAULT)", async () => {
        const c = await start();
        const master = await c.waitForMaster();
        const backup = c.other(master);
        await stopDaemon(master.ping!);
        await c.waitVipOn(backup);
        await c.waitForAssociation(backup);
        assert.match(c.log(master), /Entering FAULT STATE/);
        await c.stop();
    });

    it("reads auth_pass from the include file, and a wrong password on one side stops the pair agreeing", async () => {
        const c = await start({ authPasses: ["Abcd1234", "Wxyz9876"], dumpConfig: true });
        const [a, b] = c.nodes;
        // Both become master: each drops the other's adverts.
        await c.waitVipOn(a, 20_000);
        await c.waitVipOn(b, 20_000);
        assert.match(c.log(a), /Password = Abcd1234/);
        assert.match(c.log(b), /Password = Wxyz9876/);
        assert.match(c.log(a) + c.log(b), /received an invalid passwd/);
        assert.doesNotMatch(fs.readFileSync(a.confFile, "utf8"), /Abcd1234/);
        await c.stop();
    });

    it("refuses to start when the auth include file is missing (never runs without the secret)", async () => {
        const c = await start({ startKeepalived: false });
        const a = c.nodes[0];
        const conf = path.join(c.dir, "keepalived-noauth.conf");
        fs.writeFileSync(conf, c.renderConf(a, undefined, path.join(c.dir, "missing-auth.conf")));
        const r = run("keepalived", c.keepalivedArgs(a, conf), { netns: a.ns, allowFail: true, timeoutMs: 15_000 });
        assert.notEqual(r.code, 0);
        assert.notEqual(r.code, -1, "keepalived kept running instead of refusing the configuration");
        assert.match(r.stdout + r.stderr, /Config files missing/);
        assert.equal(c.hasVip(a), false, `VIP ${VIP} must not be configured`);
        await c.stop();
    });
});
