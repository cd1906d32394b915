/**
 * The double-failure scenarios of a three-member Patroni cluster (issue 10), shared by the chaos test
 * (test/chaos/postgresDoubleFailure.test.ts) and the benchmark (bench/cases/postgresDoubleFailure.ts).
 *
 * - {@link sequentialDoubleFailure}: the leader's host crashes; the synchronous standby is promoted; `gapMs` after that
 *   promotion (or once it has made the third member its synchronous standby) the new leader's host crashes too. With
 *   the rendered settings (synchronous_mode on, synchronous_node_count 1, not strict) the new leader names the third
 *   member in Patroni's `/sync` key a few seconds after its promotion, once it streams and has caught up. If the second
 *   crash comes after that, Patroni promotes the third member and it takes writes alone; if it comes before, Patroni
 *   promotes nobody (the third may lack commits the new leader acknowledged) until the second member returns. Either
 *   way no acknowledged write is lost.
 * - {@link simultaneousDoubleFailure}: the leader and its synchronous standby crash together. The third member was
 *   asynchronous and may lack acknowledged commits, so Patroni never promotes it; writes resume when one of the two
 *   returns (measured from its restart), and no acknowledged write is lost.
 *
 * Every host crash is the scenario's `crashHost` (Patroni and the postmaster with its children kill -9 together).
 */
import { PATRONI_DEFAULTS } from "../../renderers/patroni";
import { httpStatus, PatroniCluster, PgMember, PORTS, runAsync, WriteRecord } from "./patroniCluster";
import { sleep, waitFor } from "./support";

/**
 * The members Patroni's `/sync` key names as synchronous standbys, read from etcd itself (authoritative: a dead
 * leader can no longer change it, and a survivor's own view may lag by a loop).
 */
export async function syncStandbys(c: PatroniCluster): Promise<string[]> {
    const key = `${c.namespace}${PATRONI_DEFAULTS.scope}/sync`;
    const endpoints = PORTS.etcdClient.map((p) => `http://127.0.0.1:${p}`).join(",");
    const r = await runAsync("etcdctl", ["--endpoints", endpoints, "get", key, "--print-value-only"], { ETCDCTL_API: "3" }, 10_000);
    if (r.code !== 0) throw new Error(`etcdctl get ${key}: ${r.stderr}`);
    const value = r.stdout.trim();
    if (value === "") return [];
    const sync = (JSON.parse(value) as { sync_standby?: string | null }).sync_standby;
    return sync ? sync.split(",").map((s) => s.trim()).filter(Boolean) : [];
}

/** The cluster's members by role, once the leader has a synchronous standby and the third member streams. */
export interface Roles {
    readonly leader: PgMember;
    readonly sync: PgMember;
    readonly third: PgMember;
}

/** Waits until a leader, its synchronous standby (in Postgres and in Patroni's /sync key) and a streaming third member exist. */
export async function waitThreeHealthy(c: PatroniCluster, timeoutMs = 180_000): Promise<Roles> {
    if (c.members.length !== 3) throw new Error(`the double-failure scenarios need 3 members, the cluster has ${c.members.length}`);
    return waitFor("a leader, a synchronous standby and a streaming third member", async () => {
        const leader = await c.leader();
        if (!leader) return undefined;
        const roles = await c.clusterRoles();
        const sync = c.members.find((m) => m !== leader && roles.get(m.name) === "sync_standby");
        const third = c.members.find((m) => m !== leader && m !== sync);
        if (!sync || !third) return undefined;
        const r = await c.sql(leader.pgPort, "SELECT application_name || ':' || sync_state FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1", 3000);
        const rows = r.code === 0 ? r.stdout.trim().split("\n") : [];
        return rows.includes(`${sync.name}:sync`) && rows.some((x) => x.startsWith(`${third.name}:`)) ? { leader, sync, third } : undefined;
    }, { timeoutMs, intervalMs: 500 });
}

/** Starts the writer and waits for `n` acknowledged writes; returns the index of the first write of this run. */
async function startWrites(c: PatroniCluster, n = 10): Promise<number> {
    const from = c.writes.length;
    c.startWriter();
    await waitFor(`${n} acknowledged writes before the fault`, () => c.writes.slice(from).filter((w) => w.ok).length >= n, { timeoutMs: 120_000 });
    return from;
}

/** Waits for the first acknowledged write after `since` on any member; returns it. */
function waitAnyAck(c: PatroniCluster, since: number, timeoutMs: number): Promise<WriteRecord> {
    return waitFor("an acknowledged write", () => c.writes.find((w) => w.ok && w.t > since), { timeoutMs, intervalMs: 100 });
}

/** Restarts the crashed members and waits until all three are healthy again (the old leaders rejoin by pg_rewind). */
export async function rejoin(c: PatroniCluster, crashed: PgMember[]): Promise<Roles> {
    for (const m of crashed) {
        await c.waitDown(m);
        c.startMember(m);
    }
    return waitThreeHealthy(c);
}

/** What one sequential double failure measured (ms epoch times, seconds after the first kill). */
export interface SequentialResult {
    readonly roles: Roles;
    /** Which member Patroni promoted after the first crash (must be `roles.sync`). */
    readonly promoted: PgMember;
    /** Seconds from the first kill to the new leader's /primary answering 200. */
    readonly promotedS: number;
    /** Seconds from the first kill to the first acknowledged write on the new leader. */
    readonly firstFailoverS: number;
    /** Seconds from the first kill until the third member was the new leader's synchronous standby (undefined: not seen before the second kill). */
    readonly thirdSyncS?: number;
    /** Did Patroni's /sync key name the third member when the new leader died (read from etcd after the kill)? */
    readonly thirdSyncAtKill: boolean;
    /** Seconds from the first kill to the second. */
    readonly secondKillS: number;
    /** The survivor took over: seconds from the second kill to its first acknowledged write. */
    readonly survivorWritesS?: number;
    /** The survivor did not take over: seconds from restarting the second crashed member to the first acknowledged write. */
    readonly writesAfterReturnS?: number;
    /** Acknowledged writes of the run missing on the leader afterwards. */
    readonly lost: number;
    /** Acknowledged writes of the run. */
    readonly acked: number;
    /** Members (Postgres ports) that acknowledged writes of the run, in order of their first. */
    readonly writers: number[];
    /** Members that answered /primary 200 at the end (must be 1). */
    readonly primariesAtEnd: number;
}

/**
 * Kill the leader's host; when Patroni has promoted the synchronous standby, wait `gap` ms (or, with "third-synchronous",
 * until the third member is its synchronous standby) and kill the new leader's host too. Measures until the survivor
 * (or, if Patroni does not promote it, the restarted second member) takes writes, counts lost writes, then restarts
 * both crashed members and waits until the cluster is whole again.
 */
export async function sequentialDoubleFailure(c: PatroniCluster, gap: number | "third-synchronous" = 5_000, survivorTimeoutMs = 90_000): Promise<SequentialResult> {
    const roles = await waitThreeHealthy(c);
    const from = await startWrites(c);
    try {
        const t0 = c.crashHost(roles.leader);
        const survivors = [roles.sync, roles.third];
        const { promoted, at } = await waitFor("a survivor to be promoted", async () => {
            for (const m of survivors) if ((await httpStatus(m.apiPort, "/primary", 500)) === 200) return { promoted: m, at: Date.now() };
            return undefined;
        }, { timeoutMs: 120_000, intervalMs: 100 });
        const other = survivors.find((m) => m !== promoted)!;
        // Until the second kill: when does the other survivor become the new leader's synchronous standby?
        let thirdSyncAt: number | undefined;
        const until = gap === "third-synchronous" ? () => thirdSyncAt === undefined : () => Date.now() < at + gap;
        for (let i = 0; i < 1_000 && until(); i++) {
            if (thirdSyncAt === undefined && (await c.clusterRoles()).get(other.name) === "sync_standby") thirdSyncAt = Date.now();
            else await sleep(200);
            if (gap === "third-synchronous" && Date.now() > at + 120_000) throw new Error(`${other.name} did not become ${promoted.name}'s synchronous standby within 120 s`);
        }
        const firstAck = await c.waitAckFrom(promoted.pgPort, t0, 60_000);
        const t1 = c.crashHost(promoted);
        const thirdSyncAtKill = (await syncStandbys(c)).includes(other.name);
        let survivorWritesS: number | undefined;
        let writesAfterReturnS: number | undefined;
        let last: WriteRecord;
        const survivorAck = await c.waitAckFrom(other.pgPort, t1, survivorTimeoutMs).catch(() => undefined);
        if (survivorAck) {
            survivorWritesS = (survivorAck.t - t1) / 1000;
            last = survivorAck;
        } else {
            // Patroni did not promote the survivor (it was not yet synchronous): bring the second crashed member back.
            await c.waitDown(promoted);
            const tBack = Date.now();
            c.startMember(promoted);
            last = await waitAnyAck(c, tBack, 180_000);
            writesAfterReturnS = (last.t - tBack) / 1000;
        }
        await waitFor("5 more acknowledged writes", () => c.writes.filter((w) => w.ok && w.t > last.t).length >= 5, { timeoutMs: 30_000 });
        await c.stopWriter();
        const acked = c.writes.slice(from).filter((w) => w.ok).length;
        const writers = [...new Set(c.writes.slice(from).filter((w) => w.ok).map((w) => w.port!))];
        const lost = (await c.lostWrites(from)).length;
        let primariesAtEnd = 0;
        for (const m of c.members) if ((await httpStatus(m.apiPort, "/primary")) === 200) primariesAtEnd++;
        await rejoin(c, writesAfterReturnS === undefined ? [roles.leader, promoted] : [roles.leader]);
        const s = (t: number) => (t - t0) / 1000;
        return {
            roles,
            promoted,
            promotedS: s(at),
            firstFailoverS: s(firstAck.t),
            thirdSyncS: thirdSyncAt === undefined ? undefined : s(thirdSyncAt),
            thirdSyncAtKill,
            secondKillS: s(t1),
            survivorWritesS,
            writesAfterReturnS,
            lost,
            acked,
            writers,
            primariesAtEnd,
        };
    } finally {
        await c.stopWriter();
    }
}

/** What one simultaneous double failure (leader and synchronous standby together) measured. */
export interface SimultaneousResult {
    readonly roles: Roles;
    /** Members that answered /primary 200 while only the asynchronous third member was up (must be 0). */
    readonly promotedWhileAlone: number;
    /** Acknowledged writes between the kill and the return (must be 0: nobody could take them). */
    readonly ackedWhileAlone: number;
    /** Seconds from restarting the synchronous standby to the first acknowledged write. */
    readonly writesAfterReturnS: number;
    readonly lost: number;
    readonly acked: number;
}

/**
 * Kill the leader's and the synchronous standby's hosts at once; watch the third member for `watchMs` (longer than
 * ttl + loop_wait: Patroni would have promoted it by then if it could); restart the synchronous standby and measure
 * until writes resume; count lost writes; restart the old leader and wait until the cluster is whole.
 */
export async function simultaneousDoubleFailure(c: PatroniCluster, watchMs: number): Promise<SimultaneousResult> {
    const roles = await waitThreeHealthy(c);
    const from = await startWrites(c);
    try {
        const t0 = c.crashHost(roles.leader);
        c.crashHost(roles.sync);
        let promotedWhileAlone = 0;
        while (Date.now() < t0 + watchMs) {
            if ((await httpStatus(roles.third.apiPort, "/primary", 500)) === 200) promotedWhileAlone++;
            await sleep(500);
        }
        const tBack = Date.now();
        // A psql that got its COMMIT before the kill may return just after it: 1 s of margin.
        const ackedWhileAlone = c.writes.filter((w) => w.ok && w.t > t0 + 1_000 && w.t < tBack).length;
        await c.waitDown(roles.sync);
        c.startMember(roles.sync);
        const first = await waitAnyAck(c, tBack, 180_000);
        await waitFor("5 more acknowledged writes", () => c.writes.filter((w) => w.ok && w.t > first.t).length >= 5, { timeoutMs: 30_000 });
        await c.stopWriter();
        const acked = c.writes.slice(from).filter((w) => w.ok).length;
        const lost = (await c.lostWrites(from)).length;
        await rejoin(c, [roles.leader]);
        return { roles, promotedWhileAlone, ackedWhileAlone, writesAfterReturnS: (first.t - tBack) / 1000, lost, acked };
    } finally {
        await c.stopWriter();
    }
}
