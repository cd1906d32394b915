import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { etcdMemberArgs, renderEtcdEntrypoint } from "../renderers/etcd";
import { BLACKBOX_DEFAULTS, renderBlackboxYml } from "../renderers/blackbox";

describe("etcdMemberArgs", () => {
    const members = ["etcd-1", "etcd-2", "etcd-3"];
    const hostOf = (m: string) => `opscenter-${m}`;
    it("names every member in the initial cluster and advertises the Swarm service name", () => {
        const a = etcdMemberArgs({ name: "etcd-2", members, hostOf, clusterToken: "opscenter-us-east-1" });
        assert.ok(a.includes("--name=etcd-2"));
        assert.ok(a.includes("--advertise-client-urls=http://opscenter-etcd-2:2379"));
        assert.ok(a.includes("--initial-advertise-peer-urls=http://opscenter-etcd-2:2380"));
        assert.ok(a.includes("--initial-cluster=etcd-1=http://opscenter-etcd-1:2380,etcd-2=http://opscenter-etcd-2:2380,etcd-3=http://opscenter-etcd-3:2380"));
        assert.ok(a.includes("--initial-cluster-token=opscenter-us-east-1"), "a token per region keeps the regions' clusters apart");
        assert.ok(a.includes("--initial-cluster-state=new"));
    });
    it("real etcd accepts the flags (etcd --help lists every flag rendered)", () => {
        const help = spawnSync("etcd", ["--help"], { encoding: "utf8" });
        assert.equal(help.error, undefined, "etcd is not installed: apt-get install -y etcd-server (.ci/run does this)");
        const text = help.stdout + help.stderr;
        for (const flag of etcdMemberArgs({ name: "etcd-1", members, hostOf, clusterToken: "t" })) {
            const name = flag.split("=")[0];
            assert.ok(text.includes(name), `etcd does not know ${name}`);
        }
    });
    it("rejects an even member count, an unknown name and a bad token", () => {
        assert.throws(() => etcdMemberArgs({ name: "etcd-1", members: ["etcd-1", "etcd-2"], hostOf, clusterToken: "t" }), /members = 2 is invalid: an odd number, at least 3/);
        assert.throws(() => etcdMemberArgs({ name: "etcd-9", members, hostOf, clusterToken: "t" }), /name "etcd-9" is not one of members/);
        assert.throws(() => etcdMemberArgs({ name: "etcd-1", members, hostOf, clusterToken: "a b" }), /clusterToken "a b" is invalid/);
    });
});

describe("renderEtcdEntrypoint", () => {
    const members = ["etcd-1", "etcd-2", "etcd-3"];
    const hostOf = (m: string) => `opscenter-${m}`;
    const script = renderEtcdEntrypoint({ name: "etcd-2", members, hostOf, clusterToken: "opscenter-us-east-1" });
    it("parses under dash and under bash in POSIX mode (the image's /bin/sh is bash-static)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-entry-"));
        const file = path.join(dir, "entry.sh");
        fs.writeFileSync(file, script);
        for (const sh of [["sh", "-n"], ["bash", "--posix", "-n"]]) {
            const r = spawnSync(sh[0], [...sh.slice(1), file], { encoding: "utf8" });
            assert.equal(r.status, 0, `${sh.join(" ")}: ${r.stderr}`);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });
    it("calls nothing but shell builtins, etcd and etcdctl (the image has no coreutils)", () => {
        for (const tool of ["sed", "grep", "sleep", "cat", "awk", "cut", "tr", "head"]) {
            assert.doesNotMatch(script, new RegExp(`(^|[|;&(]\\s*)${tool}\\s`, "m"), `${tool} is not in the image`);
        }
    });
    it("asks only the other members, and execs etcd with every flag of etcdMemberArgs", () => {
        assert.match(script, /OTHERS='http:\/\/opscenter-etcd-1:2379,http:\/\/opscenter-etcd-3:2379'/);
        for (const flag of etcdMemberArgs({ name: "etcd-2", members, hostOf, clusterToken: "opscenter-us-east-1" })) {
            if (flag.startsWith("--initial-cluster=") || flag.startsWith("--initial-cluster-state=")) continue;
            assert.ok(script.includes(`'${flag}'`), `missing ${flag}`);
        }
        assert.match(script, /start existing "\$CLUSTER"/);
        assert.match(script, /member add "\$NAME" --peer-urls="\$SELF_PEER"/);
    });
});

describe("renderBlackboxYml", () => {
    it("probes the edge address over HTTPS with the public name as SNI and Host, 200 only", () => {
        const doc = parse(renderBlackboxYml({ host: "ops.example.com" }));
        const m = doc.modules[BLACKBOX_DEFAULTS.module];
        assert.equal(m.prober, "http");
        assert.deepEqual(m.http.valid_status_codes, [200]);
        assert.equal(m.http.fail_if_not_ssl, true);
        assert.equal(m.http.headers.Host, "ops.example.com");
        assert.equal(m.http.tls_config.server_name, "ops.example.com");
        assert.equal(m.http.tls_config.insecure_skip_verify, false);
    });
    it("the real blackbox_exporter accepts it (--config.check)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blackbox-"));
        try {
            const file = path.join(dir, "blackbox.yml");
            fs.writeFileSync(file, renderBlackboxYml({ host: "ops.example.com" }));
            const r = spawnSync("prometheus-blackbox-exporter", ["--config.check", `--config.file=${file}`], { encoding: "utf8", timeout: 20_000 });
            assert.equal(r.error, undefined, "prometheus-blackbox-exporter is not installed: apt-get install -y prometheus-blackbox-exporter (.ci/run does this)");
            assert.equal(r.status, 0, r.stderr + r.stdout);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
    it("rejects a bad host, module or timeout", () => {
        assert.throws(() => renderBlackboxYml({ host: "Not A Host" }), /host: "Not A Host" is not a lower-case DNS name/);
        assert.throws(() => renderBlackboxYml({ host: "ops.example.com", module: "a b" }), /module: "a b"/);
        assert.throws(() => renderBlackboxYml({ host: "ops.example.com", timeoutSeconds: 0 }), /timeoutSeconds: 0/);
    });
});
