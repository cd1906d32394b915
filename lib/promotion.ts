/**
 * The commands `npm run promote` runs, built purely (tested; `--dry-run` prints them). Every Patroni request
 * goes over the same SSH path the Docker provider uses (`dockerHost`, `ssh://user@manager`, components/swarmHosts.ts):
 * the manager answers Swarm questions; the request itself runs inside a running Spilo member's container on its
 * data host (reached with `ssh -J manager`), against Patroni's REST API on localhost:8008, which is not published.
 */
import { PATRONI_DEFAULTS } from "../renderers/patroniDcs";

/** `ssh://user@host[:port]` -> the ssh destination and port. */
export function sshTarget(dockerHost: string): { dest: string; user: string; host: string; port?: number } {
    const m = /^ssh:\/\/(?:([^@/]+)@)?([^:/]+)(?::(\d+))?\/?$/.exec(dockerHost);
    if (!m) throw new Error(`dockerHost = ${JSON.stringify(dockerHost)}: must be ssh://user@host[:port] (the stack output dockerHost)`);
    const user = m[1] ?? "root";
    return { dest: `${user}@${m[2]}`, user, host: m[2], port: m[3] ? Number(m[3]) : undefined };
}

const SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=10"];

/** argv of `ssh` to the manager running `remote` (one shell string). */
export function onManager(dockerHost: string, remote: string): string[] {
    const t = sshTarget(dockerHost);
    return ["ssh", ...SSH_OPTS, ...(t.port ? ["-p", String(t.port)] : []), t.dest, remote];
}

/** argv of `ssh` to a data host (private address), jumping through the manager, running `remote`. */
export function onNode(dockerHost: string, nodeAddress: string, remote: string): string[] {
    const t = sshTarget(dockerHost);
    if (!/^[0-9.]+$|^[a-z0-9.-]+$/i.test(nodeAddress)) throw new Error(`node address ${JSON.stringify(nodeAddress)} is not an address`);
    return ["ssh", ...SSH_OPTS, "-J", t.port ? `${t.dest}:${t.port}` : t.dest, `${t.user}@${nodeAddress}`, remote];
}

const SERVICE = /^[a-z0-9][a-z0-9-]*$/;
const checkService = (s: string) => {
    if (!SERVICE.test(s)) throw new Error(`service ${JSON.stringify(s)} is not a Swarm service name`);
    return s;
};

/** Manager: the deployed environment of a member service (SPILO_CONFIGURATION is in it). */
export const inspectEnv = (service: string) => `docker service inspect ${checkService(service)} --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}'`;
/** Manager: the address of the node running the service's task (empty when none runs). */
export const runningNodeAddress = (service: string) =>
    `n=$(docker service ps ${checkService(service)} --filter desired-state=running --format '{{.Node}}' | head -n1) && [ -n "$n" ] && docker node inspect "$n" --format '{{.Status.Addr}}'`;

/** Data host: `curl` inside the member's container against Patroni's REST API (body, if any, on stdin). */
export function patroniRequest(service: string, method: "GET" | "PATCH"): string {
    const url = `http://localhost:${PATRONI_DEFAULTS.restApiPort}/config`;
    const container = `c=$(docker ps -q --filter label=com.docker.swarm.service.name=${checkService(service)} | head -n1) && [ -n "$c" ]`;
    return method === "GET"
        ? `${container} && docker exec "$c" curl -fsS --max-time 10 ${url}`
        : `${container} && docker exec -i "$c" curl -fsS --max-time 10 -X PATCH -H 'Content-Type: application/json' --data-binary @- ${url}`;
}

/**
 * What makes the standby region's Redis replica (`redis-1`) its region's master, in order, as RESP argv. `REPLICAOF
 * NO ONE` stops following the dead region's master and accepts writes at once (the standby replica has no
 * min-replicas-to-write); `CONFIG REWRITE` drops the `replicaof` line from the writable copy the start script keeps
 * (renderers/redisScripts.ts keeps that copy's `replicaof` on a restart, so that a Sentinel failover survives it):
 * without it, the restart `pulumi up` does after `role: primary` would make the node a replica of the dead master
 * again, whatever the newly rendered file says.
 */
export const REDIS_PROMOTE_COMMANDS: readonly (readonly string[])[] = [
    ["REPLICAOF", "NO", "ONE"],
    ["CONFIG", "REWRITE"],
];

/**
 * Data host: runs {@link REDIS_PROMOTE_COMMANDS} with `redis-cli` inside the service's Redis container, the password
 * read from the Swarm secret file inside the container (REDISCLI_AUTH; never on a command line outside it), then
 * prints ROLE.
 */
export function redisPromoteRequest(service: string, passwordFile: string, port: number): string {
    if (!/^\/[A-Za-z0-9._/-]+$/.test(passwordFile)) throw new Error(`passwordFile ${JSON.stringify(passwordFile)} is not an absolute path`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port ${port} is not a TCP port`);
    const cli = (argv: readonly string[]) => `redis-cli --no-auth-warning -p ${port} ${argv.join(" ")}`;
    const inner = [...REDIS_PROMOTE_COMMANDS.map((c) => `${cli(c)} | grep -qx OK`), cli(["ROLE"])].join(" && ");
    const container = `c=$(docker ps -q --filter label=com.docker.swarm.service.name=${checkService(service)} | head -n1) && [ -n "$c" ]`;
    return `${container} && docker exec "$c" sh -c 'REDISCLI_AUTH="$(cat ${passwordFile})" && export REDISCLI_AUTH && ${inner}'`;
}
