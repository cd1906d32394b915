/**
 * Issue 12 item 8 on the plan of both stacks: every host is watched (node_exporter as a global Swarm service, scraped
 * by Prometheus, with disk and memory alerts), prunes old images, and data hosts run Redis with
 * `vm.overcommit_memory=1` (Redis's own startup warning: a BGSAVE/AOF rewrite fork may fail under the kernel's
 * heuristic overcommit). The alert rules themselves run under promtool in test/chaos/alerting.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { OfflinePlan } from "../offline/engine";
import { imageFacts } from "../lib/images";
import { alertRules } from "../renderers/alerts";
import { ofType, planStack, STACKS, unwrap } from "./harness";

const SERVICE = "docker:index/service:Service";
const CONFIG = "docker:index/serviceConfig:ServiceConfig";
const INSTANCE = "aws:ec2/instance:Instance";
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function service(plan: OfflinePlan, swarmName: string): Json {
    const r = ofType(plan, SERVICE).find((s) => s.inputs.name === swarmName);
    if (!r) throw new Error(`no service ${swarmName}; have ${ofType(plan, SERVICE).map((s) => s.inputs.name).join(", ")}`);
    return unwrap(r.inputs) as Json;
}
function mounted(plan: OfflinePlan, svc: Json, fileName: string): string {
    const c = (svc.taskSpec.containerSpec.configs as Json[]).find((x) => x.fileName === fileName)!;
    return Buffer.from(String(ofType(plan, CONFIG).find((x) => x.inputs.name === c.configName)!.inputs.data), "base64").toString("utf8");
}
function userData(plan: OfflinePlan): { hostname: string; doc: Json }[] {
    return ofType(plan, INSTANCE).map((r) => {
        const doc = parse(String(unwrap(r.inputs.userData))) as Json;
        return { hostname: String(doc.hostname), doc };
    });
}

describe("alert rules for hosts", () => {
    it("disk filling (predict_linear), disk almost full and memory low, in both regions", () => {
        for (const role of ["primary", "standby"] as const) {
            const rules = new Map(alertRules(role).map((r) => [r.alert, r]));
            assert.match(rules.get("NodeDiskFillingUp")?.expr ?? "", /predict_linear\(node_filesystem_avail_bytes/);
            assert.match(rules.get("NodeDiskAlmostFull")?.expr ?? "", /node_filesystem_avail_bytes/);
            assert.match(rules.get("NodeMemoryLow")?.expr ?? "", /node_memory_MemAvailable_bytes/);
        }
    });
});

for (const stack of STACKS) {
    describe(`host health: ${stack}`, () => {
        const plan = () => planStack(stack);

        it("node_exporter runs on every node (global), reads the host's root read-only, as its image's user", () => {
            const s = service(plan(), "opscenter-node-exporter");
            assert.deepEqual(s.mode, { global: true });
            const c = s.taskSpec.containerSpec;
            assert.equal(c.image, imageFacts("nodeExporterImage").image);
            assert.ok(c.args.includes("--path.rootfs=/host"), "filesystem metrics of the host, not the container");
            const root = (c.mounts as Json[]).find((m) => m.target === "/host");
            assert.ok(root && root.type === "bind" && root.source === "/" && root.readOnly === true, "host / bound read-only at /host");
            assert.equal(root.bindOptions?.propagation, "rslave", "mounts made later on the host (data volumes) show up");
            assert.equal(c.hostname, "{{.Node.Hostname}}", "node_uname_info names the Swarm node");
            assert.ok(s.taskSpec.resources?.limits?.memoryBytes > 0, "limited like every exporter");
            assert.equal((s.taskSpec.placement?.constraints ?? []).length, 0, "no constraint: every node, managers and edge included");
        });

        it("Prometheus scrapes it (job node, every task by DNS) and loads the host rules", () => {
            const prom = service(plan(), "opscenter-prometheus");
            const yml = parse(mounted(plan(), prom, "/etc/prometheus/prometheus.yml")) as Json;
            const job = (yml.scrape_configs as Json[]).find((j) => j.job_name === "node");
            assert.ok(job, "a node job");
            assert.deepEqual(job.dns_sd_configs, [{ names: ["tasks.opscenter-node-exporter"], type: "A", port: 9100 }]);
            const rules = mounted(plan(), prom, "/etc/prometheus/alerts.yml");
            for (const a of ["NodeDiskFillingUp", "NodeDiskAlmostFull", "NodeMemoryLow"]) assert.ok(rules.includes(`alert: ${a}`), a);
        });

        it("every host prunes unused images on a timer, keeping a week's images; data hosts set vm.overcommit_memory=1", () => {
            const hosts = userData(plan());
            assert.ok(hosts.length > 0);
            for (const { hostname, doc } of hosts) {
                const file = (p: string) => (doc.write_files as Json[]).find((f) => f.path === p)?.content as string | undefined;
                const svc = file("/etc/systemd/system/ops-docker-prune.service") ?? "";
                assert.match(svc, /^ExecStart=\/usr\/bin\/docker image prune --all --force --filter until=\d+h$/m, `${hostname}: prune with an age filter`);
                assert.match(file("/etc/systemd/system/ops-docker-prune.timer") ?? "", /^OnCalendar=/m, `${hostname}: a timer`);
                const cmds = (doc.runcmd as unknown[]).map((c) => (Array.isArray(c) ? c.join(" ") : String(c)));
                assert.ok(cmds.includes("systemctl enable --now ops-docker-prune.timer"), `${hostname}: timer enabled`);
                const sysctl = file("/etc/sysctl.d/60-ops-center-redis.conf");
                if (hostname.startsWith("data-")) {
                    assert.match(sysctl ?? "", /^vm\.overcommit_memory = 1$/m, `${hostname}: overcommit for Redis's fork`);
                    assert.ok(cmds.includes("sysctl -p /etc/sysctl.d/60-ops-center-redis.conf"), `${hostname}: applied at first boot, not only next boot`);
                } else {
                    assert.equal(sysctl, undefined, `${hostname}: no Redis there`);
                }
            }
        });
    });
}
