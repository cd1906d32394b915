/**
 * The image table (lib/images.ts) against both stacks' registered services: every pinned image has its facts, every
 * secret and config file a service mounts is readable by the process that reads it (the image's user, or the
 * service's own `user`), and every mounted path and environment variable is one the table lists for that image.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CONFIG_KEYS } from "../config/keys";
import { canRead, factsOfReference, IMAGES } from "../lib/images";
import { ofType, planStack, STACKS, unwrap } from "./harness";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("image table", () => {
    it("every image key of config/keys.ts has facts for exactly its default, with an upstream source", () => {
        const imageKeys = CONFIG_KEYS.filter((k) => /Image$/.test(k.key) && k.key !== "backendImageInactive");
        assert.deepEqual(IMAGES.map((i) => i.key).sort(), imageKeys.map((k) => k.key).sort());
        for (const k of imageKeys) {
            const f = IMAGES.find((i) => i.key === k.key)!;
            assert.equal(f.image, k.default, `${k.key}: the table describes ${f.image}, the pin is ${k.default}`);
            assert.ok(f.sources.length > 0 || /No published Dockerfile found/.test(f.notes ?? ""), `${k.key}: no upstream source`);
        }
    });
    it("canRead: owner, group and other bits; root reads all", () => {
        assert.equal(canRead({ uid: 59000, gid: 59000 }, { uid: 0, gid: 0, mode: 0o400 }), false, "redis_exporter and a root-owned 0400 secret");
        assert.equal(canRead({ uid: 59000, gid: 59000 }, { uid: 59000, gid: 59000, mode: 0o400 }), true);
        assert.equal(canRead({ uid: 99, gid: 99 }, { uid: 0, gid: 0, mode: 0o444 }), true);
        assert.equal(canRead({ uid: 99, gid: 99 }, { uid: 0, gid: 99, mode: 0o440 }), true);
        assert.equal(canRead({ uid: 0, gid: 0 }, { uid: 1, gid: 1, mode: 0o000 }), true);
    });
});

for (const stack of STACKS) {
    describe(`images of ${stack}`, () => {
        const services = () => ofType(planStack(stack), "docker:index/service:Service").map((r) => unwrap(r.inputs) as Json);

        it("every secret and config mount is readable by the process that reads it", () => {
            const bad: string[] = [];
            for (const s of services()) {
                const c = s.taskSpec.containerSpec;
                const facts = factsOfReference(c.image);
                assert.ok(facts, `${s.name}: image ${c.image} is not in lib/images.ts`);
                const [uid, gid] = c.user !== undefined ? String(c.user).split(":").map(Number) : [];
                // A numeric `user` takes its primary group from the image's /etc/passwd (Docker's rule); unknown uids get gid = uid.
                const account = [facts.user, ...(facts.accounts ?? [])].find((a) => a.uid === uid);
                const reader = c.user !== undefined ? { uid, gid: gid ?? account?.gid ?? uid } : (facts.readsFilesAs ?? facts.user);
                for (const [kind, m] of [...(c.secrets ?? []).map((m: Json) => ["secret", m]), ...(c.configs ?? []).map((m: Json) => ["config", m])] as [string, Json][]) {
                    // Swarm's defaults for a secret or config file: uid 0, gid 0, mode 0444.
                    const file = { uid: Number(m.fileUid ?? 0), gid: Number(m.fileGid ?? 0), mode: m.fileMode ?? 0o444 };
                    if (!canRead(reader, file)) bad.push(`${s.name}: ${kind} ${m.fileName} is ${file.uid}:${file.gid} ${file.mode.toString(8)}, unreadable to uid ${reader.uid} (${facts.key})`);
                }
            }
            assert.deepEqual(bad, []);
        });

        it("every mounted path and environment variable is listed for its image, and start scripts have a shell", () => {
            const bad: string[] = [];
            for (const s of services()) {
                const c = s.taskSpec.containerSpec;
                const facts = factsOfReference(c.image)!;
                const listed = new Map(facts.paths.map((p) => [p.path, p.kind]));
                const mounted: [string, string][] = [
                    ...(c.secrets ?? []).map((m: Json) => [m.fileName, "secret"]),
                    ...(c.configs ?? []).map((m: Json) => [m.fileName, "config"]),
                    ...(c.mounts ?? []).map((m: Json) => [m.target, m.type]),
                ];
                for (const [p, kind] of mounted) if (listed.get(p) !== kind) bad.push(`${s.name}: ${kind} ${p} is not a ${kind} path of ${facts.key}`);
                for (const v of Object.keys(c.env ?? {})) if (!facts.env.includes(v)) bad.push(`${s.name}: env ${v} is not read by ${facts.key}`);
                if (/^(\/bin\/)?sh$/.test(c.commands?.[0] ?? "") && !facts.shell) bad.push(`${s.name}: runs a shell script but ${facts.key} has no /bin/sh`);
            }
            assert.deepEqual(bad, []);
        });
    });
}
