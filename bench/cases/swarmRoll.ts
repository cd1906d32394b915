/**
 * Day-2 rolls of the data tier on the Swarm lab, under load (issue: roll any tier, rotate any secret).
 *
 * swarm_postgres_rolling_update: a Spilo image bump (`spiloImage` set to the next patch tag, a stand-in tagged so on
 * the data hosts) applied by the plan as `pulumi up` would, after the README runbook's step: `postgresRollLast` set
 * to the live leader as scripts/postgresLeader.ts reads it (the leader's pg_stat_replication through the router's
 * primary port). The members' services roll one at a time in their `dependsOn` order, the others first, the
 * leader last, each stop-first and converged (its update completed, its task healthy) before the next. No
 * switchover first: Patroni lets one name only the synchronous standby, and it is a handover itself (the first
 * version of this case tried one: "candidate name does not match with sync_standby"). Under one INSERT every 0.2 s
 * through the router (swarmPgWrites.ts), the figure is the seconds without an acknowledged write over the whole
 * operation (gaps over 1 s, summed); acknowledged writes lost; Patroni's leader and synchronous standby polled
 * beside the client say which stop each gap was.
 *
 * Even runs roll back to the plan's image, and an odd number of runs ends with one more roll back (not
 * measured), so the lab is left on the plan's image.
 *
 * swarm_password_rotation: scripts/rotatePasswords.ts's order on the lab: ALTER ROLE on the leader first (its
 * alterRolePasswords, the rendered roles SQL through the router's primary port), then the secrets rolled
 * (`standbyCredentials` with two new passwords, the plan applied, every service converged; even runs rotate back to
 * the stack's generated passwords, `standbyCredentials` unset). A login loop (a new
 * connection as the application role every 0.1 s) uses the password deployed at that moment: the old one until the
 * roll converged, then the new one. Figures: seconds from the ALTER until converged; failed logins AFTER the
 * rotation (target 0); and every backend task logs in with the secret file it actually holds.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { waitConverged } from "../../test/swarm/apply";
import { docker } from "../../test/swarm/lab";
import { execIn, runningTasks, RunningTask, StackLab } from "../../test/swarm/support";
import { mountedSecret } from "../../test/swarm/translate";
import { CREDENTIAL_NAMES, CredentialName } from "../../config/standbyCredentials";
import { alterRolePasswords, newPassword } from "../../scripts/rotatePasswords";
import { leaderFromReplication, replicationRows } from "../../scripts/postgresLeader";
import { HAPROXY_DEFAULTS } from "../../renderers/haproxy";
import { SPILO_DEFAULTS } from "../../renderers/patroniSpilo";
import { CaseResult, summarise } from "../types";
import { loadResult, r3, services } from "./swarmLoad";
import { backendEnv, patroniCluster, pgTask, secretOf, wholeCluster } from "./swarmFailover";
import { missingWrites, nsenterPsql, psqlCommand, routerTask, startPgWriter } from "./swarmPgWrites";
import { failureReasons, nextSpiloTag, writeGaps } from "../measure";
import { startLoop, taskPid } from "./swarmLoop";

/**
 * Polls Patroni's /cluster (any running member, once a second) until stopped; returns each change of the leader and
 * of the synchronous standby, seconds after `t0`. Beside the client: says which handover a gap in the writes was.
 */
function watchRoles(s: StackLab, t0: number): { stop(): Promise<string[]> } {
    const changes: string[] = [];
    let last = "";
    let running = true;
    const done = (async () => {
        for (let i = 0; running && i < 3600; i++) {
            const m = await pgTask(s).then((t) => patroniCluster(t)).catch(() => undefined);
            if (m) {
                const now = `leader ${m.find((x) => x.role === "leader")?.name.replace(/^.*-(pg-\d+)$/, "$1") ?? "none"}, sync ${m.filter((x) => x.role === "sync_standby").map((x) => x.name.replace(/^.*-(pg-\d+)$/, "$1")).join("+") || "none"}`;
                if (now !== last) changes.push(`+${(Date.now() / 1000 - t0).toFixed(1)} s ${now}`);
                last = now;
            }
            await new Promise((r) => setTimeout(r, 1000));
        }
    })();
    return {
        async stop() {
            running = false;
            await done;
            return changes;
        },
    };
}

export async function swarmPostgresRollingUpdate(s: StackLab, runs: number): Promise<CaseResult> {
    const env = backendEnv(s);
    const pass = secretOf(s, env.DATABASE_PASSWORD_FILE);
    const members = services(s).filter((n) => /^opscenter-pg-\d+$/.test(n)).sort();
    const original = String(s.translation.services.find((x) => x.spec.Name === members[0])!.spec.TaskTemplate.ContainerSpec.Image);
    const next = nextSpiloTag(original);
    // The "new image": the stand-in tagged as the next patch on every host that holds it (the data hosts).
    for (const n of s.lab.nodes) if (docker(n.socket, ["image", "inspect", "--format", "{{.Id}}", original], { allowFail: true, timeoutMs: 15_000 })) docker(n.socket, ["tag", original, next], { timeoutMs: 15_000 });
    const samples: number[] = [];
    const notes: string[] = [];
    let lost = 0;
    let image = original;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-roll-"));
    try {
        for (let run = 1; run <= runs; run++) {
            image = run % 2 === 1 ? next : original;
            const before = await wholeCluster(s);
            const router = await routerTask(s);
            const tag = `roll-${Date.now()}-${run}`;
            const loop = await startPgWriter(s, router, pass, tag, 1200);
            let roles: ReturnType<typeof watchRoles> | undefined;
            try {
                const t0 = Date.now() / 1000;
                const leader = before.find((m) => m.role === "leader")!.name;
                // The runbook's step: the live leader, asked through the router as npm run postgres-leader asks it.
                const rollLast = leaderFromReplication(s.stack, members.length, replicationRows({ host: "127.0.0.1", port: HAPROXY_DEFAULTS.primaryPort, superuserPassword: deployedCredentials(s).pgSuperuser, psql: psqlInNetns(router, scratch) }));
                if (!leader.endsWith(`-${rollLast}`)) throw new Error(`postgres-leader says ${rollLast}, Patroni's /cluster says ${leader}`);
                roles = watchRoles(s, t0);
                const { report } = await s.applyWith({ spiloImage: image, postgresRollLast: rollLast });
                if (report.failed.length > 0) throw new Error(`the roll failed: ${report.failed.map((f) => `${f.name}: ${f.error}`).join("; ")}`);
                const rolled = report.updated.map((u) => u.name);
                const after = await wholeCluster(s);
                await waitConverged(s.manager(), services(s), 600_000);
                const t1 = Date.now() / 1000;
                await new Promise((r) => setTimeout(r, 2000));
                await loop.stop();
                const changes = await roles.stop();
                const gaps = writeGaps(loop.attempts, t0, t1);
                const failedWrites = loop.attempts.filter((a) => !a.ok && a.start >= t0 && a.start < t1).length;
                const { acked, missing } = missingWrites(s, router, pass, tag, loop);
                lost += missing.length;
                samples.push(gaps.totalS);
                notes.push(
                    `run ${run}: to ${image}, leader before ${leader} (postgresRollLast ${rollLast}), rolled ${rolled.join(", ") || "nothing"} in ${r3(t1 - t0)} s; ` +
                        `leader now ${after.find((m) => m.role === "leader")!.name}; without writes ${gaps.totalS} s (${gaps.gaps.map((g) => `+${g.at} s ${g.s} s: ${failureReasons(loop.attempts, t0 + g.at, t0 + g.at + g.s).join(", ") || "blocked"}`).join("; ") || "no gap over 1 s"}); ` +
                        `${failedWrites} failed writes (${failureReasons(loop.attempts, t0, t1).join(", ") || "none"}); Patroni: ${changes.join(", ")}; ${acked} acknowledged, ${missing.length} lost`,
                );
                process.stdout.write(`   ${notes[notes.length - 1]}\n`);
            } finally {
                await roles?.stop();
                await loop.stop();
            }
        }
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
        if (image !== original) {
            await s.applyWith({});
            await waitConverged(s.manager(), services(s), 900_000);
        }
    }
    return summarise(samples, lost, {
        notes: `Swarm lab (${s.stack}): postgresRollLast set to the live leader (scripts/postgresLeader.ts through the router), spiloImage bumped to a patch tag and applied (members roll one at a time by dependsOn, the leader last, stop-first, each converged before the next), no switchover first (it is a handover itself; README); seconds without an acknowledged write over the whole operation (one INSERT every 0.2 s through the router's primary port, gaps over 1 s summed); ${notes.join("; ")}`,
    });
}

/** A `psql` that runs in the router task's network namespace (its 127.0.0.1:5000 is the router), written into `dir`. */
function psqlInNetns(router: RunningTask, dir: string): string {
    const file = path.join(dir, "psql");
    fs.writeFileSync(file, `#!/bin/sh\nexec nsenter -t ${taskPid(router)} -n psql "$@"\n`, { mode: 0o700 });
    return file;
}

/** The five passwords the lab's stack deployed (read back from the Swarm secrets of its translation). */
function deployedCredentials(s: StackLab): Record<CredentialName, string> {
    const env = backendEnv(s);
    const pg = services(s).find((n) => /^opscenter-pg-\d+$/.test(n))!;
    const file = (f: string) => `${SPILO_DEFAULTS.secretsDir}/${f}`;
    const v = {
        pgSuperuser: mountedSecret(s.translation, pg, file(SPILO_DEFAULTS.secretFiles.superuser)),
        pgReplication: mountedSecret(s.translation, pg, file(SPILO_DEFAULTS.secretFiles.replication)),
        pgApp: mountedSecret(s.translation, pg, file(SPILO_DEFAULTS.secretFiles.app)),
        pgMonitor: mountedSecret(s.translation, pg, file(SPILO_DEFAULTS.secretFiles.monitor)),
        redis: secretOf(s, env.REDIS_PASSWORD_FILE),
    };
    for (const n of CREDENTIAL_NAMES) if (!v[n]) throw new Error(`the plan's ${pg} mounts no secret for ${n}`);
    return v as Record<CredentialName, string>;
}

/** Each running backend task logs in as the application role with the password file it holds; returns failures. */
async function backendLogins(s: StackLab): Promise<{ tasks: number; failed: string[] }> {
    const env = backendEnv(s);
    const failed: string[] = [];
    let tasks = 0;
    for (const name of ["opscenter-backend-blue", "opscenter-backend-green"]) {
        for (const t of await runningTasks(s, name)) {
            tasks++;
            const pid = taskPid(t);
            const password = fs.readFileSync(`/proc/${pid}/root${env.DATABASE_PASSWORD_FILE}`, "utf8").trim();
            const host = execIn(t, ["getent", "hosts", env.DATABASE_HOST]).stdout.trim().split(/\s+/)[0];
            try {
                nsenterPsql(t, `PGCONNECT_TIMEOUT=5 psql -X -At -h ${host} -p ${env.DATABASE_PORT} -U ${env.DATABASE_USER} -d ${env.DATABASE_NAME} -c "SELECT 1"`, password);
            } catch (e) {
                failed.push(`${name} on ${t.node.hostname}: ${e instanceof Error ? e.message : String(e)}`);
            }
        }
    }
    return { tasks, failed };
}

export async function swarmPasswordRotation(s: StackLab, runs: number): Promise<CaseResult> {
    // The stack's own (generated) passwords: odd runs rotate away from them, even runs back (standbyCredentials
    // unset again), so an even number of runs leaves the lab as the other cases expect it.
    const generated = deployedCredentials(s);
    let creds = generated;
    const samples: number[] = [];
    const notes: string[] = [];
    let failedAfter = 0;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-rotate-"));
    const deployed = path.join(scratch, "app-password");
    try {
        for (let run = 1; run <= runs; run++) {
            const leader = (await wholeCluster(s)).find((m) => m.role === "leader")!.name;
            const router = await routerTask(s);
            // psql in the router's network namespace, for alterRolePasswords (it runs `psql` by name).
            const psqlIn = psqlInNetns(router, scratch);
            fs.writeFileSync(deployed, creds.pgApp, { mode: 0o600 });
            const login = `PGPASSWORD=$(cat ${deployed}) ${psqlCommand(s)} -c "SELECT 1"`;
            const loop = startLoop(router, login, { intervalS: 0.1, maxSeconds: 1500, netOnly: true });
            try {
                await loop.okAfter(0, 10, 60_000);
                const back = run % 2 === 0;
                const next = back ? generated : { ...creds, pgApp: newPassword(), pgMonitor: newPassword() };
                const t0 = Date.now() / 1000;
                alterRolePasswords({ host: "127.0.0.1", port: HAPROXY_DEFAULTS.primaryPort, superuserPassword: creds.pgSuperuser, psql: psqlIn }, { app: next.pgApp, monitor: next.pgMonitor });
                const tAltered = Date.now() / 1000;
                const { report } = await s.applyWith(back ? {} : { standbyCredentials: JSON.stringify(next) });
                if (report.failed.length > 0) throw new Error(`the roll failed: ${report.failed.map((f) => `${f.name}: ${f.error}`).join("; ")}`);
                await waitConverged(s.manager(), services(s), 900_000);
                await wholeCluster(s);
                // Converged: every consumer holds the new secret; the loop's client now uses it too.
                fs.writeFileSync(deployed, next.pgApp, { mode: 0o600 });
                const tRolled = Date.now() / 1000;
                creds = next;
                const logins = await backendLogins(s);
                await new Promise((r) => setTimeout(r, 15_000));
                await loop.stop();
                const during = loop.attempts.filter((a) => !a.ok && a.start >= t0 && a.start < tRolled);
                const auth = during.filter((a) => /password authentication failed/.test(a.detail)).length;
                const after = loop.attempts.filter((a) => !a.ok && a.start >= tRolled).length + logins.failed.length;
                failedAfter += after;
                samples.push(r3(tRolled - t0));
                notes.push(
                    `run ${run}: ${back ? "back to the stack's generated passwords" : "to two new passwords"}, leader ${leader}; ALTER ${r3(tAltered - t0)} s, rolled ${report.updated.map((u) => u.name).join(", ")} until converged ${r3(tRolled - t0)} s; ` +
                        `during: ${during.length} failed logins of ${loop.attempts.filter((a) => a.start >= t0 && a.start < tRolled).length} (${auth} refused passwords: the old secret after the ALTER; ${during.length - auth} no leader reachable while the Patroni members rolled); ` +
                        `after: ${after} failed of ${loop.attempts.filter((a) => a.start >= tRolled).length} + ${logins.tasks} backend tasks each logging in with the file it holds${logins.failed.length ? `: ${logins.failed.join("; ")}` : ""}`,
                );
                process.stdout.write(`   ${notes[notes.length - 1]}\n`);
            } finally {
                await loop.stop();
            }
        }
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
    return loadResult(samples, failedAfter, `Swarm lab (${s.stack}): pgApp and pgMonitor rotated (ALTER ROLE on the leader through the router first, then standbyCredentials applied and converged); seconds from the ALTER until every service converged; failed logins counted after the rotation (the loop, as the application role, 15 s, plus each backend task with its own secret file); ${notes.join("; ")}`);
}
