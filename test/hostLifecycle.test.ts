/**
 * Replacing hosts without losing data (issue 12 items 2, 5, 11), on the registered plan of both stacks:
 * data on separate EBS volumes that outlive their host, hosts protected (the engine refuses to replace a protected
 * resource: pulumi/pulumi pkg/resource/deploy/step_generator.go, "unable to replace resource ... as it is currently
 * marked for protection", checked as `new.Protect && old.Protect`), only the `rollHost` is not, each host's AMI
 * explicit, and the stores of every backup protected and retained.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { byName, ofType, planStack, STACKS, unwrap } from "./harness";

const INSTANCE = "aws:ec2/instance:Instance";
const VOLUME = "aws:ebs/volume:Volume";
const ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment";

describe("data volumes", () => {
    for (const stack of STACKS) {
        it(`${stack}: every data host has its own encrypted gp3 EBS volume in its zone, protected and retained on delete`, () => {
            const plan = planStack(stack);
            const hosts = ofType(plan, INSTANCE).filter((h) => (h.inputs.tags as Record<string, string>).role === "data");
            assert.equal(hosts.length, 3);
            for (const h of hosts) {
                const v = byName(plan, VOLUME, `${h.name}-data`);
                const subnet = plan.resources.find((r) => r.type === "aws:ec2/subnet:Subnet" && r.id === h.inputs.subnetId)!;
                assert.equal(v.inputs.availabilityZone, subnet.inputs.availabilityZone, `${v.name}: in its host's zone`);
                assert.equal(v.inputs.type, "gp3");
                assert.equal(v.inputs.encrypted, true);
                assert.equal(v.inputs.size, 100);
                assert.deepEqual({ protect: v.opts?.protect, retainOnDelete: v.opts?.retainOnDelete }, { protect: true, retainOnDelete: true });
            }
        });
    }
    it("dataVolumeGb sizes them", () => {
        for (const v of ofType(planStack("us-east-1", { dataVolumeGb: "250" }), VOLUME)) assert.equal(v.inputs.size, 250);
    });
    it("each is attached to its host, and on a replacement detached (old instance stopped) before the new host takes it", () => {
        const plan = planStack("us-east-1");
        for (const n of [0, 1, 2]) {
            const host = byName(plan, INSTANCE, `ops-hosts-data-${n}`);
            const vol = byName(plan, VOLUME, `ops-hosts-data-${n}-data`);
            const a = byName(plan, ATTACHMENT, `ops-hosts-data-${n}-data`);
            assert.equal(a.inputs.instanceId, host.id);
            assert.equal(a.inputs.volumeId, vol.id);
            assert.equal(a.inputs.deviceName, "/dev/sdf");
            assert.equal(a.inputs.stopInstanceBeforeDetaching, true);
            assert.equal(a.opts?.deleteBeforeReplace, true, "AWS attaches a volume to one instance at a time");
            // The data host mounts exactly that volume before it joins the Swarm (renderers/dataVolume.ts).
            assert.match(String(unwrap(host.inputs.userData)), new RegExp(`VOLUME_ID='${vol.id}'`));
        }
        assert.equal(ofType(plan, ATTACHMENT).length, 3, "only data hosts");
    });
});

describe("host protection and replacement", () => {
    it("every host is protected: no update can replace or delete one", () => {
        for (const h of ofType(planStack("us-east-1"), INSTANCE)) assert.equal(h.opts?.protect, true, h.name);
    });
    it("rollHost is the one host an update may replace", () => {
        const hosts = ofType(planStack("us-east-1", { rollHost: "data-1" }), INSTANCE);
        assert.deepEqual(hosts.filter((h) => h.opts?.protect !== true).map((h) => h.name), ["ops-hosts-data-1"]);
    });
    it("the key pair of a running host is ignored like its user data: a new sshKeyName reaches hosts one rollHost at a time", () => {
        for (const h of ofType(planStack("us-east-1"), INSTANCE)) assert.ok(h.opts?.ignoreChanges?.includes("keyName"), h.name);
        const rolled = byName(planStack("us-east-1", { rollHost: "app-2" }), INSTANCE, "ops-hosts-app-2");
        assert.ok(!rolled.opts?.ignoreChanges?.includes("keyName"));
    });
    it("options are recorded through the stack transform, dependsOn included", () => {
        const h = byName(planStack("us-east-1"), INSTANCE, "ops-hosts-app-0");
        assert.ok(h.opts?.dependsOn?.some((u) => u.endsWith("aws:iam/rolePolicy:RolePolicy::ops-hosts-app")), JSON.stringify(h.opts));
    });
});

describe("AMI per host", () => {
    const AMI = "ami-0123456789abcdef0";
    it("a host pinned in hostAmis runs exactly that AMI, and its AMI is never ignored (a changed pin replaces it)", () => {
        const plan = planStack("us-east-1", { hostAmis: `data-2=${AMI}`, rollHost: "data-2" });
        const pinned = byName(plan, INSTANCE, "ops-hosts-data-2");
        assert.equal(pinned.inputs.ami, AMI);
        assert.ok(!(pinned.opts?.ignoreChanges ?? []).includes("ami"));
        const other = byName(plan, INSTANCE, "ops-hosts-data-1");
        assert.notEqual(other.inputs.ami, AMI);
        assert.ok(other.opts?.ignoreChanges?.includes("ami"), "an unpinned host keeps the AMI it was created with");
    });
    it("a pinned host keeps its pin when it is not the one rolling (the pin is explicit, not ignored)", () => {
        const pinned = byName(planStack("us-east-1", { hostAmis: `app-0=${AMI}` }), INSTANCE, "ops-hosts-app-0");
        assert.equal(pinned.inputs.ami, AMI);
        assert.ok(!(pinned.opts?.ignoreChanges ?? []).includes("ami"));
        assert.equal(pinned.opts?.protect, true, "so a changed pin without rollHost is refused by the engine, not applied to several hosts");
    });
});

describe("deletion protection", () => {
    for (const stack of STACKS) {
        it(`${stack}: the WAL key and both buckets are protected and retained; the edge EIP and the failover record protected`, () => {
            const plan = planStack(stack);
            for (const r of [...ofType(plan, "aws:kms/key:Key"), ...ofType(plan, "aws:s3/bucket:Bucket")]) {
                assert.deepEqual({ protect: r.opts?.protect, retainOnDelete: r.opts?.retainOnDelete }, { protect: true, retainOnDelete: true }, `${r.type} ${r.name}`);
            }
            assert.equal(ofType(plan, "aws:s3/bucket:Bucket").length, 2);
            for (const r of ofType(plan, "aws:ec2/eip:Eip").filter((e) => e.name.endsWith("-edge-vip"))) assert.equal(r.opts?.protect, true, r.name);
            const records = ofType(plan, "aws:route53/record:Record");
            assert.ok(records.length >= 1);
            for (const r of records) assert.equal(r.opts?.protect, true, r.name);
        });
    }
});
