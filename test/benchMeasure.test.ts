/** The bench's pure arithmetic (bench/measure.ts): seconds without an acknowledged write, the stand-in's next tag. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failureReasons, nextSpiloTag, writeGaps } from "../bench/measure";

const ok = (end: number) => ({ ok: true, start: end - 0.05, end });
const fail = (end: number) => ({ ok: false, start: end - 2, end });

describe("writeGaps: seconds without an acknowledged write", () => {
    it("a steady loop has no gap over 1 s", () => {
        const r = writeGaps([0.3, 0.6, 0.9, 1.2, 1.5].map(ok), 0, 1.8);
        assert.deepEqual(r, { totalS: 0, longestS: 0, gaps: [] });
    });

    it("sums every gap over 1 s, failed attempts count as nothing, and the edges of the window count", () => {
        const attempts = [ok(0.2), fail(2), fail(4), ok(4.5), ok(4.8), ok(8.8), ok(9)];
        const r = writeGaps(attempts, 0, 11);
        // 0.2 -> 4.5 (4.3 s), 4.8 -> 8.8 (4 s), 9 -> 11 (2 s: nothing acknowledged until the window's end)
        assert.deepEqual(r.gaps, [{ at: 0.2, s: 4.3 }, { at: 4.8, s: 4 }, { at: 9, s: 2 }]);
        assert.equal(r.totalS, 10.3);
        assert.equal(r.longestS, 4.3);
    });

    it("ignores acknowledgements outside the window, so a window with none is one gap", () => {
        const r = writeGaps([ok(1), ok(20)], 5, 10);
        assert.deepEqual(r.gaps, [{ at: 0, s: 5 }]);
    });
});

describe("nextSpiloTag", () => {
    it("bumps the -pN patch of the pinned Spilo reference", () => {
        assert.equal(nextSpiloTag("ghcr.io/zalando/spilo-17:4.0-p2"), "ghcr.io/zalando/spilo-17:4.0-p3");
        assert.equal(nextSpiloTag("registry.example:5000/spilo-17:4.0-p9"), "registry.example:5000/spilo-17:4.0-p10");
    });

    it("names the key and the wanted form for a reference without -pN", () => {
        assert.throws(() => nextSpiloTag("ghcr.io/zalando/spilo-17:latest"), /spiloImage ghcr.io\/zalando\/spilo-17:latest: want <repo>:<version>-p<N>/);
    });
});

describe("failureReasons", () => {
    it("folds failed attempts in the window by reason, digits ignored, most frequent first", () => {
        const a = [
            { ok: false, start: 1, end: 3, detail: 'psql: error: connection to server at "127.0.0.1", port 5000 failed: timeout expired' },
            { ok: false, start: 3, end: 5, detail: 'psql: error: connection to server at "127.0.0.1", port 5000 failed: timeout expired' },
            { ok: false, start: 5, end: 5.1, detail: "ERROR:  cannot execute INSERT in a read-only transaction" },
            { ok: true, start: 6, end: 6.1 },
            { ok: false, start: 9, end: 9.1, detail: "outside" },
        ];
        assert.deepEqual(failureReasons(a, 0, 8), ["2x timeout expired", "1x ERROR:  cannot execute INSERT in a read-only transaction"]);
    });
});
