/**
 * Issue 12 item 10: the Docker provider's SSH path. It reaches a Swarm manager through an SSM Session Manager
 * session to that instance's id (ssh ProxyCommand `aws ssm start-session --document-name AWS-StartSSHSession`), not
 * through the edge EIP (two hosts behind one address: `accept-new` then trusts the first and refuses the other after
 * a VIP move). Host keys are checked strictly against the keys the hosts publish to SSM at first boot (no
 * trust-on-first-use, in CI or anywhere), and one multiplexed connection (ControlMaster/ControlPersist) carries the
 * provider's parallel sessions. Asserted on the plan of both stacks and on the rendered cloud-init.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { ofType, planStack, STACKS, unwrap } from "./harness";
import { dockerSshPath } from "../lib/sshPath";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const opts = (list: string[]) => {
    const o: Record<string, string> = {};
    for (let i = 0; i < list.length; i++) if (list[i] === "-o") { const [k, ...v] = list[++i].split("="); o[k] = v.join("="); }
    return o;
};

for (const stack of STACKS) {
    describe(`Docker provider SSH path: ${stack}`, () => {
        const plan = () => planStack(stack);
        const provider = () => {
            const p = ofType(plan(), "pulumi:providers:docker");
            assert.equal(p.length, 1);
            const i = unwrap(p[0].inputs) as Json;
            return { host: String(i.host), sshOpts: (typeof i.sshOpts === "string" ? JSON.parse(i.sshOpts) : i.sshOpts) as string[] };
        };

        it("targets the init manager by instance id through an SSM session, never the edge EIP", () => {
            const { host, sshOpts } = provider();
            const app0 = ofType(plan(), "aws:ec2/instance:Instance").find((i) => /-app-0$/.test(i.name))!;
            assert.equal(host, `ssh://admin@${app0.id}`);
            const o = opts(sshOpts);
            assert.equal(o.ProxyCommand, `aws ssm start-session --region ${stack} --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p`);
            const eip = ofType(plan(), "aws:ec2/eip:Eip").map((e) => String(e.id));
            for (const s of sshOpts) for (const e of eip) assert.ok(!s.includes(e), "no jump through an EIP");
        });

        it("checks host keys strictly against the keys the hosts published; no accept-new anywhere", () => {
            const { sshOpts } = provider();
            const o = opts(sshOpts);
            assert.equal(o.StrictHostKeyChecking, "yes");
            assert.equal(o.UserKnownHostsFile, "/dev/null", "no trust-on-first-use file is consulted or written");
            assert.match(o.KnownHostsCommand, new RegExp(`^/usr/bin/env aws ssm get-parameter --region ${stack} --name /ops-center-ha/${stack}/swarm/hostkeys/%H `));
            assert.ok(!JSON.stringify(sshOpts).includes("accept-new"));
        });

        it("reuses one connection for the provider's parallel sessions (ControlMaster, ControlPersist)", () => {
            const o = opts(provider().sshOpts);
            assert.equal(o.ControlMaster, "auto");
            assert.match(o.ControlPath, /%C/);
            assert.match(o.ControlPersist, /^\d+m$/);
        });

        it("every host publishes its SSH host key by instance id at first boot, and managers accept the multiplexed sessions", () => {
            for (const r of ofType(plan(), "aws:ec2/instance:Instance")) {
                const doc = parse(String(unwrap(r.inputs.userData))) as Json;
                const text = JSON.stringify(doc);
                assert.match(text, /hostkeys\/\$iid/, `${doc.hostname}: publishes its host key`);
                const sshd = (doc.write_files as Json[]).find((f) => f.path === "/etc/ssh/sshd_config.d/60-ops-center.conf");
                if (/^app-[012]$/.test(doc.hostname)) assert.match(sshd?.content ?? "", /^MaxSessions (\d+)$/m, `${doc.hostname}: MaxSessions above the default 10`);
            }
        });
    });
}

describe("dockerSshPath", () => {
    it("refuses a target that is not an instance id, naming the field", () => {
        assert.throws(() => dockerSshPath({ user: "admin", instanceId: "10.0.0.1", region: "us-east-1", hostKeyParameterPrefix: "/ops-center-ha/x/swarm/hostkeys" }), /instanceId/);
    });
});
