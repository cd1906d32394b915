/**
 * The lab's upstream resolver: answers every query NXDOMAIN at once, as the VPC resolver does for a name it does not
 * know (a Swarm service or task name is never a VPC name).
 *
 * Why the lab needs one: Docker's embedded DNS (127.0.0.11 in every container) answers the names of the Swarm's
 * services and tasks itself and forwards every other name to the node's resolver. A name Swarm stopped knowing (the
 * service of a dead host's task: `opscenter-pg-3` after data-2 died) is forwarded. With no resolver answering, Docker
 * 20.10's embedded DNS sends the container no answer at all, and glibc waits out its default timeout (5 s, 2 tries):
 * measured in a lab container, `getent hosts no-such-name` took 20.1 s (A and AAAA). Patroni's failover loop asks
 * the old leader's API by name first, so every lab failover carried those 10 s (swarm bench, 2026-12-07: Patroni
 * logged "failed to resolve host opscenter-pg-3" 10 s after the leader lock expired). In the deployment the VPC
 * resolver answers NXDOMAIN in milliseconds. A refusal is not enough: the embedded DNS sends no answer then either.
 *
 * It runs as its own process (`node --import tsx labResolver.ts <address> <port>`), not in the test's event loop,
 * which the tests block with spawnSync for seconds at a time; the lab starts it and stops it by PID.
 */
import { ChildProcess, spawn } from "node:child_process";
import dgram from "node:dgram";
import * as fs from "node:fs";
import * as path from "node:path";

/** The NXDOMAIN reply to one DNS query (RFC 1035 4.1): the query's id, opcode, RD and question; QR, RA, RCODE 3. */
export function nxdomainReply(query: Buffer): Buffer | undefined {
    if (query.length < 12) return undefined;
    const flags = query.readUInt16BE(2);
    if (flags & 0x8000) return undefined; // a response, not a query
    const qdcount = query.readUInt16BE(4);
    let end = 12;
    for (let q = 0; q < Math.min(qdcount, 1); q++) {
        while (end < query.length && query[end] !== 0) {
            if ((query[end] & 0xc0) !== 0) return undefined; // no compression in a question we answer
            end += query[end] + 1;
        }
        end += 1 + 4; // the root label, QTYPE, QCLASS
        if (end > query.length) return undefined;
    }
    const reply = Buffer.alloc(end);
    query.copy(reply, 0, 0, end);
    const opcode = flags & 0x7800;
    const rd = flags & 0x0100;
    reply.writeUInt16BE(0x8000 | opcode | rd | 0x0080 | 3, 2);
    reply.writeUInt16BE(Math.min(qdcount, 1), 4);
    reply.writeUInt16BE(0, 6);
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10);
    return reply;
}

/** Serves nxdomainReply on udp `address`:`port` until killed; prints `ready` once bound. */
export function serve(address: string, port: number): dgram.Socket {
    const sock = dgram.createSocket("udp4");
    sock.on("message", (msg, rinfo) => {
        const r = nxdomainReply(msg);
        if (r) sock.send(r, rinfo.port, rinfo.address);
    });
    sock.on("error", (e) => {
        process.stderr.write(`lab resolver ${address}:${port}: ${e.message}\n`);
        process.exit(1);
    });
    sock.bind(port, address, () => process.stdout.write("ready\n"));
    return sock;
}

/** The nodes' upstream resolver on the lab bridge (labResolver.ts: NXDOMAIN at once, as the VPC resolver), by PID. */
export async function startResolver(address: string, logFile: string): Promise<ChildProcess> {
    // A resolver on this slot's address is a stale one (the slot is ours: claimSlot), left by a run killed with
    // SIGKILL before it could stop it: it would hold the port. Stopped by its PID.
    for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        let cmd = "";
        try {
            cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        } catch {
            continue;
        }
        if (cmd.includes(`labResolver.ts\0${address}\0`) && Number(pid) !== process.pid) {
            try {
                process.kill(Number(pid), "SIGKILL");
            } catch {
                /* gone */
            }
        }
    }
    const log = fs.openSync(logFile, "a");
    const child = spawn(process.execPath, ["--import", "tsx", __filename, address, "53"], {
        cwd: path.join(__dirname, "..", ".."),
        stdio: ["ignore", "pipe", log],
    });
    fs.closeSync(log);
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`lab resolver on ${address}:53 not ready within 30 s (log: ${logFile})`)), 30_000);
        child.stdout!.once("data", () => {
            clearTimeout(timer);
            resolve();
        });
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`lab resolver on ${address}:53 exited ${code} (log: ${logFile})`));
        });
    });
    child.stdout!.resume();
    return child;
}

if (require.main === module) {
    const [address, port] = process.argv.slice(2);
    if (!address || !/^\d+$/.test(port ?? "")) {
        process.stderr.write("usage: labResolver.ts <address> <port>\n");
        process.exit(2);
    }
    serve(address, Number(port));
}
