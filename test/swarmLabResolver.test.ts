/**
 * The Swarm lab's upstream resolver (test/swarm/labResolver.ts): every query answered NXDOMAIN at once, so a
 * container's lookup of a name Swarm no longer knows fails as fast as it does against the VPC resolver.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Resolver } from "node:dns/promises";
import * as path from "node:path";
import { describe, it } from "node:test";
import { nxdomainReply, serve } from "./swarm/labResolver";

/** A query for `name` (type A, class IN, RD set), as glibc sends it. */
function query(id: number, name: string): Buffer {
    const labels = name.split(".").flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    header.writeUInt16BE(0x0100, 2);
    header.writeUInt16BE(1, 4);
    return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

describe("lab resolver", () => {
    it("answers a query NXDOMAIN with its id, RD and question", () => {
        const q = query(0x1234, "opscenter-pg-3");
        const r = nxdomainReply(q)!;
        assert.equal(r.readUInt16BE(0), 0x1234);
        const flags = r.readUInt16BE(2);
        assert.equal(flags & 0x8000, 0x8000, "QR");
        assert.equal(flags & 0x0100, 0x0100, "RD copied");
        assert.equal(flags & 0x0080, 0x0080, "RA");
        assert.equal(flags & 0x000f, 3, "RCODE NXDOMAIN");
        assert.deepEqual([r.readUInt16BE(4), r.readUInt16BE(6), r.readUInt16BE(8), r.readUInt16BE(10)], [1, 0, 0, 0]);
        assert.deepEqual(r.subarray(12), q.subarray(12));
    });

    it("drops what is not a query it can echo: a response, a short packet, a truncated question", () => {
        const resp = query(1, "x");
        resp.writeUInt16BE(0x8100, 2);
        assert.equal(nxdomainReply(resp), undefined);
        assert.equal(nxdomainReply(Buffer.alloc(5)), undefined);
        assert.equal(nxdomainReply(query(1, "opscenter-pg-3").subarray(0, 20)), undefined);
    });

    // ENOTFOUND is the answer itself: with no answer the client fails ETIMEOUT after its 5 s (a wall-clock bound here
    // only measured the machine's load).
    it("a real resolver client gets NXDOMAIN from it, an answer rather than its timeout", async () => {
        const sock = serve("127.0.0.1", 0);
        try {
            await new Promise<void>((r) => sock.once("listening", () => r()));
            const res = new Resolver({ timeout: 5000, tries: 1 });
            res.setServers([`127.0.0.1:${sock.address().port}`]);
            await assert.rejects(res.resolve4("opscenter-pg-3"), (e: NodeJS.ErrnoException) => e.code === "ENOTFOUND");
        } finally {
            sock.close();
        }
    });

    it("runs as its own process, as the lab starts it, and says ready once bound", async () => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "swarm", "labResolver.ts"), "127.0.0.1", "0"], { cwd: path.join(__dirname, ".."), stdio: ["ignore", "pipe", "pipe"] });
        try {
            const line = await new Promise<string>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error("not ready within 30 s")), 30_000);
                child.stdout.once("data", (d: Buffer) => {
                    clearTimeout(timer);
                    resolve(d.toString().trim());
                });
            });
            assert.equal(line, "ready");
        } finally {
            child.kill("SIGKILL");
        }
    });
});
