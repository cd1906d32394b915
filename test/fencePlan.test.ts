/**
 * The region fence in the registered inputs (mock engine, both stacks; renderers/fence.ts, components/fenceSync.ts):
 * a fence sync on every data host reading both regions' records, the data tier's start gates and their read-only
 * mount of its volume, the data hosts' read access to the peer's record, and the stack output the promotion reads.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FENCE_DEFAULTS, fenceGateLines } from "../renderers/fence";
import { ofType, planStack, unwrap } from "./harness";

const SERVICE = "docker:index/service:Service";
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const stack of ["us-east-1", "us-west-2"] as const) {
    const primary = stack === "us-east-1";
    const peer = primary ? "us-west-2" : "us-east-1";
    describe(`region fence in the plan (${stack})`, () => {
        const plan = () => planStack(stack);
        const service = (name: string): Json => {
            const s = ofType(plan(), SERVICE).find((r) => unwrap(r.inputs.name) === name);
            assert.ok(s, `no service ${name}`);
            return unwrap(s.inputs) as Json;
        };
        const configText = (svc: Json, fileName: string): string => {
            const c = (svc.taskSpec.containerSpec.configs as Json[]).find((x) => x.fileName === fileName);
            assert.ok(c, `no config at ${fileName}`);
            const obj = ofType(plan(), "docker:index/serviceConfig:ServiceConfig").find((x) => x.inputs.name === c.configName)!;
            return Buffer.from(String(obj.inputs.data), "base64").toString("utf8");
        };

        it("a fence sync on every data host copies this region's and the peer's record from their WAL buckets", () => {
            const s = service("opscenter-fence-sync");
            assert.deepEqual(s.mode, { global: true });
            assert.deepEqual(s.taskSpec.placement.constraints, ["node.labels.role==data"]);
            assert.deepEqual(s.taskSpec.containerSpec.mounts.map((m: Json) => [m.source, m.target, m.readOnly ?? false]), [["opscenter-fence", FENCE_DEFAULTS.dir, false]]);
            const script = configText(s, FENCE_DEFAULTS.syncScriptPath);
            assert.match(script, new RegExp(`--region '${stack}' --bucket 'ops-center-ha-${stack}-wal-\\d{12}' --key '${FENCE_DEFAULTS.key}'`));
            assert.match(script, new RegExp(`--region '${peer}' --bucket 'ops-center-ha-${peer}-wal-\\d{12}' --key '${FENCE_DEFAULTS.key}'`));
        });

        it(`the Spilo members, Redis nodes${primary ? " and sentinels" : ""} mount the fence volume read-only; ${primary ? "their start scripts run the gate first" : "a standby's have no gate"}`, () => {
            const gate = fenceGateLines({ region: stack, role: primary ? "primary" : "standby" }).join("\n");
            const gated = ["opscenter-pg-1", "opscenter-pg-2", "opscenter-redis-1", ...(primary ? ["opscenter-redis-2", "opscenter-redis-sentinel-1"] : [])];
            for (const name of gated) {
                const s = service(name);
                assert.ok(s.taskSpec.containerSpec.mounts.some((m: Json) => m.source === "opscenter-fence" && m.target === FENCE_DEFAULTS.dir && m.readOnly === true), `${name} mounts the fence volume read-only`);
                const script = name.startsWith("opscenter-pg-")
                    ? configText(s, "/etc/ops-center/spilo-entrypoint.sh")
                    : configText(s, name.includes("sentinel") ? "/usr/local/bin/ops-sentinel-start.sh" : "/usr/local/bin/ops-redis-start.sh");
                assert.ok(script.includes(gate), `${name}: the gate`);
                assert.equal(script.includes("fence_dir="), primary, `${name}: ${primary ? "gated" : "no gate as a standby"}`);
            }
        });

        it("the data hosts may read the peer's record (and nothing else of its bucket); the other roles get nothing", () => {
            const policies = ofType(plan(), "aws:iam/rolePolicy:RolePolicy");
            const doc = (r: (typeof policies)[number]) => JSON.parse(String(unwrap(r.inputs.policy))).Statement as Json[];
            const data = policies.find((r) => /-data$/.test(r.name))!;
            const st = doc(data).filter((s) => String(s.Sid).startsWith("PeerFence"));
            const bucket = st[0].Resource as string;
            assert.match(bucket, new RegExp(`^arn:aws:s3:::ops-center-ha-${peer}-wal-\\d{12}$`));
            assert.deepEqual(st.map((s) => [s.Sid, s.Action, s.Resource]), [
                ["PeerFenceList", "s3:ListBucket", bucket],
                ["PeerFenceRecord", "s3:GetObject", `${bucket}/${FENCE_DEFAULTS.key}`],
                ["PeerFenceKey", "kms:Decrypt", "*"],
            ]);
            for (const r of policies.filter((p) => p !== data)) assert.ok(!doc(r).some((s) => String(s.Sid).startsWith("PeerFence")), r.name);
        });

        it("the stack output fenceBuckets names both buckets (npm run promote reads it)", () => {
            const out = unwrap(plan().outputs.fenceBuckets) as Json;
            assert.equal(out.own.region, stack);
            assert.match(out.own.bucket, new RegExp(`^ops-center-ha-${stack}-wal-\\d{12}$`));
            assert.equal(out.peer.region, peer);
            assert.match(out.peer.bucket, new RegExp(`^ops-center-ha-${peer}-wal-\\d{12}$`));
        });
    });
}
