/**
 * `pitr_restore`: point-in-time restore through the Patroni bootstrap path the program configures (Spilo's
 * clone_with_wale section from renderers/spiloRestore.ts) with real Patroni 4.0.7, Postgres 15 and etcd
 * (scenario: test/chaos/pitrCluster.ts). WAL-G is not in Debian: a local directory stands in for the S3 bucket,
 * Postgres's own archive_command / pg_basebackup / restore_command for WAL-G's wal-push / backup-push / fetch.
 *
 * One source is prepared (base backup, rows before and after the target time T, a DROP TABLE after T, WAL
 * archived, source stopped); each run restores it into a NEW cluster (own scope, empty data directory) and
 * measures seconds from starting the restored member's Patroni to the first write the application role gets
 * acknowledged. Reports `rows_missing_before_target` (acknowledged before T, absent: must be 0) and
 * `rows_after_target` (started after T, present: must be 0), summed over the runs.
 */
import { PitrScenario } from "../../test/chaos/pitrCluster";
import { BenchCase, summarise } from "../types";

export const pitr_restore: BenchCase = async (runs) => {
    const s = await PitrScenario.prepare();
    try {
        const samples: number[] = [];
        let missing = 0;
        let after = 0;
        let precious = 0;
        let rows = "";
        for (let i = 0; i < runs; i++) {
            const r = await s.restore();
            samples.push(r.seconds);
            missing += r.rowsMissingBeforeTarget;
            after += r.rowsAfterTarget;
            if (r.preciousBack) precious++;
            rows = `${r.rowsBefore} rows acknowledged before the target, ${r.rowsAfter} started after it`;
            process.stdout.write(`   run ${i + 1}: ${r.seconds.toFixed(3)} s, rows_missing_before_target ${r.rowsMissingBeforeTarget}, rows_after_target ${r.rowsAfterTarget}, dropped table back: ${r.preciousBack}\n`);
        }
        return summarise(samples, missing, {
            rows_after_target: after,
            rows_missing_before_target: missing,
            notes: `seconds from starting the restored member's Patroni (clone_with_wale bootstrap: base backup extracted, WAL replayed to recovery_target_time, promoted, post_init) to the application role's first acknowledged write; ${rows}; the table dropped after the target came back in ${precious}/${runs} runs; a local directory stands in for the S3 bucket (WAL-G is not in Debian)`,
        });
    } finally {
        await s.stop();
    }
};
