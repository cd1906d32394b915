/**
 * Bench case `postgres_double_failure` (issue 10): three Patroni members with the rendered settings (synchronous_mode
 * on, synchronous_node_count 1, not strict), writes flowing through HAProxy. The leader's host crashes; 5 s after
 * Patroni has promoted the synchronous standby, the new leader's host crashes too. Figures: seconds from the second
 * kill to the first acknowledged write on the last member (median/min/max), acknowledged writes lost (target 0), and
 * where the time goes (phases, seconds after the first kill). If Patroni does not promote the last member (it was not
 * yet synchronous), the run reports instead the seconds until writes resume once the second member is restarted.
 * Scenario: test/chaos/doubleFailure.ts (the chaos test asserts the same behaviour).
 */
import { sequentialDoubleFailure, SequentialResult } from "../../test/chaos/doubleFailure";
import { PATRONI_VERSION, PatroniCluster } from "../../test/chaos/patroniCluster";
import { BenchCase, median, summarise } from "../types";

/** Seconds between Patroni's promotion of the new leader and the crash of its host (the scenario). */
export const GAP_AFTER_PROMOTION_MS = 5_000;

export const postgres_double_failure: BenchCase = async (runs) => {
    const c = await PatroniCluster.start({ members: 3 });
    try {
        const results: SequentialResult[] = [];
        for (let i = 0; i < runs; i++) {
            const r = await sequentialDoubleFailure(c, GAP_AFTER_PROMOTION_MS);
            results.push(r);
            process.stdout.write(
                `   run ${i + 1}: promoted ${r.promoted.name} at ${r.promotedS.toFixed(2)} s, ${r.roles.third.name} synchronous at ` +
                    `${r.thirdSyncS?.toFixed(2) ?? "not yet"} s, second kill at ${r.secondKillS.toFixed(2)} s (/sync named it then: ${r.thirdSyncAtKill}), ` +
                    (r.survivorWritesS !== undefined ? `writes on ${r.roles.third.name} ${r.survivorWritesS.toFixed(2)} s later` : `no promotion: writes ${r.writesAfterReturnS!.toFixed(2)} s after the member returned`) +
                    `; ${r.lost} of ${r.acked} acknowledged writes lost\n`,
            );
        }
        const took = results.filter((r) => r.survivorWritesS !== undefined);
        const waited = results.filter((r) => r.writesAfterReturnS !== undefined);
        const lost = results.reduce((s, r) => s + r.lost, 0);
        const med = (xs: (number | undefined)[]) => median(xs.filter((x): x is number => x !== undefined));
        const phases_s: Record<string, number> = {
            leader_promoted: med(results.map((r) => r.promotedS)),
            first_write_on_new_leader: med(results.map((r) => r.firstFailoverS)),
            third_member_synchronous: med(results.map((r) => r.thirdSyncS)),
            second_kill: med(results.map((r) => r.secondKillS)),
        };
        if (took.length > 0) phases_s.first_write_on_last_member = med(took.map((r) => r.secondKillS + r.survivorWritesS!));
        const notes = [
            `kill -9 of the leader's host (Patroni + postmaster), then of the new leader's host ${GAP_AFTER_PROMOTION_MS / 1000} s after Patroni promoted it; ` +
                `3 members, synchronous_mode on, synchronous_node_count 1, not strict; writes through HAProxy, one psql per INSERT; ` +
                `both crashed members restarted and rejoined between runs; Patroni ${PATRONI_VERSION}`,
            `the last member was promoted and took writes in ${took.length} of ${results.length} runs (/sync named it at the second kill in ${results.filter((r) => r.thirdSyncAtKill).length})`,
            waited.length > 0 ? `in ${waited.length} run(s) /sync did not name it yet, Patroni promoted nobody, and writes resumed ${waited.map((r) => r.writesAfterReturnS!.toFixed(2)).join(", ")} s after the second member was restarted` : "",
            `promoted despite not being in /sync: ${results.filter((r) => !r.thirdSyncAtKill && r.survivorWritesS !== undefined).length} run(s)`,
            `one primary at the end of every run: ${results.every((r) => r.primariesAtEnd === 1)}`,
            `${results.reduce((s, r) => s + r.acked, 0)} acknowledged writes in all`,
        ].filter(Boolean);
        // The headline: seconds from the second kill to the first write on the last member (runs where it took over).
        const samples = took.length > 0 ? took.map((r) => r.survivorWritesS!) : waited.map((r) => r.writesAfterReturnS!);
        return summarise(samples, lost, { notes: notes.join("; "), phases_s, two_primaries_after_restart: results.some((r) => r.primariesAtEnd > 1) });
    } finally {
        await c.stop();
    }
};
