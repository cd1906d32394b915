/**
 * Bench case "vip": seconds from SIGKILL of the master's keepalived (main + VRRP child) to the VIP present on the
 * other node, polling `ip addr` in its namespace every 50 ms. Expected about 3 x advert_int + skew
 * ((256 - priority) / 256 s), i.e. 3-4 s with the production advert_int 1.
 *
 * acknowledged_writes_lost is 0 by construction: the edge VIP carries no writes (not applicable).
 * In AWS add the EC2 AssociateAddress call (notify_master.sh), typically a few seconds, on top.
 */
import { BenchCase, CaseResult, summarise } from "../types";
import { VipCluster } from "../../test/chaos/vipCluster";
import { KEEPALIVED_DEFAULTS } from "../../renderers/keepalived";

export const vip: BenchCase = async (runs: number): Promise<CaseResult> => {
    if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`runs: ${runs} is not allowed (integer 1-50)`);
    const samples: number[] = [];
    const masters: string[] = [];
    for (let i = 0; i < runs; i++) {
        const c = await VipCluster.start();
        try {
            const master = await c.waitForMaster();
            const backup = c.other(master);
            const killedAt = c.crash(master);
            const seenAt = await c.waitVipOn(backup, 15_000);
            samples.push((seenAt - killedAt) / 1000);
            masters.push(`${master.name}(prio ${master.priority})->${backup.name}(prio ${backup.priority})`);
            await c.waitForAssociation(backup);
        } finally {
            await c.stop();
        }
    }
    return summarise(samples, 0, {
        notes:
            `kill -9 of keepalived main+VRRP child to VIP on the peer (ip addr polled every 50 ms); ` +
            `advert_int ${KEEPALIVED_DEFAULTS.advertInt}, priorities ${KEEPALIVED_DEFAULTS.priorities.join("/")}, nopreempt, unicast; ` +
            `failovers: ${masters.join(", ")}; acknowledged_writes_lost not applicable (the VIP carries no writes), reported as 0; ` +
            `in AWS add the EIP AssociateAddress call made by notify_master.sh`,
    });
};
