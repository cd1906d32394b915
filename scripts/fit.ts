/**
 * `npm run fit -- <stack>`: what the stack's config asks of each host (lib/swarmDemand.ts) against the host's size
 * (lib/instanceTypes.ts), through the fit check of lib/fit.ts: per host, the CPUs and memory reserved by every task
 * that can land there, and every problem (the same lines config validation rejects the stack with).
 */
import * as path from "node:path";
import { ConfigError, validateConfig } from "../config/validate";
import { allocatableMemory, reservedPerHost } from "../lib/fit";
import { demandHosts, demandServices } from "../lib/swarmDemand";
import { readStackConfig } from "../offline/engine";

const stack = process.argv[2];
if (!stack) {
    process.stderr.write("usage: npm run fit -- <stack>\n");
    process.exit(2);
}
const { values } = readStackConfig(path.resolve(__dirname, ".."), stack);
const own: Record<string, string> = {};
for (const [k, v] of Object.entries(values)) if (k.startsWith("ops-center-ha:")) own[k.slice("ops-center-ha:".length)] = v;
try {
    const cfg = validateConfig({ stack, region: values["aws:region"], keys: Object.keys(own), get: (k) => own[k] });
    const hosts = demandHosts(cfg);
    if (hosts.length === 0) {
        process.stdout.write(`${stack}: an existing Swarm; its nodes' sizes are not in the config, nothing to check\n`);
        process.exit(0);
    }
    const reserved = reservedPerHost(hosts, demandServices(cfg));
    const gib = (b: number) => (b / 1024 ** 3).toFixed(2);
    process.stdout.write(`${stack}: fits. Reserved by the tasks that can land on each host (CPUs of vCPUs, GiB of allocatable GiB):\n`);
    for (const h of hosts) {
        const r = reserved[h.hostname];
        process.stdout.write(`  ${h.hostname.padEnd(8)} ${String(h.instanceType).padEnd(11)} ${(r.nanoCpus / 1e9).toFixed(2)} of ${h.cpus} CPUs, ${gib(r.memoryBytes)} of ${gib(allocatableMemory(h))} GiB\n`);
    }
} catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stdout.write(`${stack}: ${e.message}\n`);
    process.exit(1);
}
