/**
 * Bench case "redis": seconds from `kill -9` of the Redis master to the first write acknowledged by the new
 * master, for a Sentinel-aware client (asks the sentinels for the master, checks ROLE, retries every 50 ms),
 * and the acknowledged writes lost. Runs the chaos scenario (test/chaos/redisCluster.ts): master, 2 replicas,
 * the standby region's priority-0 replica and 3 sentinels from the rendered configs and start scripts.
 *
 * Expected: down-after-milliseconds (5 s) + ~1 s (ODOWN agreement, leader vote, promotion, the first replica
 * reattaching so that min-replicas-to-write 1 lets writes through) ≈ 6-7 s.
 */
import { REDIS_DEFAULTS } from "../../renderers/redis";
import { killMasterAndMeasure, startRedisCluster, waitRedisReady } from "../../test/chaos/redisCluster";
import { BenchCase, CaseResult, summarise } from "../types";

export const redis: BenchCase = async (runs: number): Promise<CaseResult> => {
    if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`runs: ${runs} is not allowed (integer 1-50)`);
    const samples: number[] = [];
    const perRun: string[] = [];
    let lost = 0;
    for (let i = 0; i < runs; i++) {
        const c = await startRedisCluster();
        try {
            await waitRedisReady(c);
            const f = await killMasterAndMeasure(c);
            if (c.nodes.find((n) => n.port === f.newMasterPort)?.standby) throw new Error("the priority-0 standby replica was promoted");
            samples.push(f.seconds);
            lost += f.lost;
            perRun.push(`:${f.oldMasterPort}->:${f.newMasterPort} ${f.lost}/${f.acknowledged} lost`);
        } finally {
            await c.stop();
        }
    }
    return summarise(samples, lost, {
        notes:
            `kill -9 of the master to the first acknowledged SET on the new master, Sentinel-aware client; ` +
            `down-after-milliseconds ${REDIS_DEFAULTS.downAfterMs}, quorum ${REDIS_DEFAULTS.quorum}/${REDIS_DEFAULTS.sentinels}, ` +
            `min-replicas-to-write ${REDIS_DEFAULTS.minReplicasToWrite}; the priority-0 standby replica was never promoted; ` +
            `runs: ${perRun.join(", ")}`,
    });
};
