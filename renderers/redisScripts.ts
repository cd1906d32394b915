/**
 * POSIX-sh scripts for the Redis tier: the redis-server and redis-sentinel start scripts (they add the
 * password from the Swarm secret to a writable copy of the rendered config) and the hourly RDB copy to S3.
 * Pure: typed input -> script text. Re-exported by ./redis.
 */
import { FenceGateInput, fenceGateLines } from "./fence";
import { redisRestoreWaitLines } from "./redisRestore";
import { REDIS_DEFAULTS, RedisAddress, checkHost, checkInt, checkMasterName, checkPath, checkPort, fail } from "./redisDefaults";

/** `host:port` words of the sentinels, checked. */
function sentinelWords(field: string, list: readonly RedisAddress[] | undefined): string {
    return (list ?? []).map((s, i) => `${checkHost(`${field}[${i}].host`, s.host)}:${checkPort(`${field}[${i}].port`, s.port)}`).join(" ");
}

/**
 * Shell lines that set `$master` to "host port" as the first sentinel of `$sentinels` that answers reports it
 * (SENTINEL GET-MASTER-ADDR-BY-NAME, no auth: the sentinels have no requirepass), or leave it empty. Each question
 * is bounded by `timeout 3` where the image has it (busybox and coreutils do), so a dead address costs 3 s.
 */
function askSentinels(): string[] {
    return [
        "ask() { if command -v timeout >/dev/null 2>&1; then timeout 3 \"$@\"; else \"$@\"; fi; }",
        "master=",
        "for s in $sentinels; do",
        '    ans=$(ask redis-cli -h "${s%:*}" -p "${s##*:}" --raw SENTINEL GET-MASTER-ADDR-BY-NAME "$name" 2>/dev/null) || continue',
        "    mh=$(printf '%s\\n' \"$ans\" | awk 'NR == 1')",
        "    mp=$(printf '%s\\n' \"$ans\" | awk 'NR == 2')",
        '    case "$mp" in \'\' | *[!0-9]*) continue ;; esac',
        '    [ -n "$mh" ] || continue',
        '    master="$mh $mp"',
        '    echo "$prog: sentinel $s reports the master at $master" >&2',
        "    break",
        "done",
    ];
}

/** Input of {@link renderRedisStart}. Every field has a production default; the tests pass their own paths. */
export interface RedisStartInput {
    /** Read-only rendered redis.conf (the Swarm config mount). */
    readonly configSource?: string;
    /** Writable copy redis-server runs from, on the data volume. */
    readonly configPath?: string;
    /** File holding the Redis password (the Swarm secret). */
    readonly passwordFile?: string;
    /** Point-in-time restore: wait for this marker of the restore step (renderers/redisRestore.ts) before starting. */
    readonly waitForRestore?: string;
    /**
     * Sentinels an empty node asks for the current master before it starts (primary region; none in the standby
     * region, whose replicas always follow the primary region's master). Asked in this order: put the sentinel on
     * the node's own host last (it may have come back empty with it).
     */
    readonly sentinels?: readonly RedisAddress[];
    /** The address this node announces (`replica-announce-ip`/`-port`): how the sentinels name it. Required with `sentinels`. */
    readonly self?: RedisAddress;
    /** Monitored master name (default "opscenter"). */
    readonly masterName?: string;
    /**
     * The region fence's start gate (renderers/fence.ts), run before the daemon takes any role: a node rendered for a
     * primary region that another region was promoted away from stays down. The fence volume is mounted at its `dir`.
     */
    readonly fence?: FenceGateInput;
}

/** Input of {@link renderSentinelStart}. */
export interface SentinelStartInput {
    /** Monitored master name; must match the rendered sentinel.conf (default "opscenter"). */
    readonly masterName?: string;
    /** Read-only rendered sentinel.conf (the Swarm config mount). */
    readonly configSource?: string;
    /** Writable copy redis-sentinel runs from and rewrites, on the data volume. */
    readonly configPath?: string;
    /** File holding the Redis password (the Swarm secret). */
    readonly passwordFile?: string;
    /** The OTHER sentinels, asked for the current master when this sentinel starts with no copy (an empty volume). */
    readonly sentinels?: readonly RedisAddress[];
    /**
     * The region fence's start gate (renderers/fence.ts), run before the daemon takes any role: a node rendered for a
     * primary region that another region was promoted away from stays down. The fence volume is mounted at its `dir`.
     */
    readonly fence?: FenceGateInput;
}

/** Input of {@link renderRdbBackupScript}. */
export interface RdbBackupInput {
    /** AWS region of this stack, also the key prefix (`redis/<region>/`). */
    readonly region: string;
    /** This region's backup bucket name. */
    readonly bucket: string;
    /** KMS key id, alias or ARN for SSE-KMS. */
    readonly kmsKeyId: string;
    /** Node to copy the RDB from: a replica (primary region) or the standby region's replica. */
    readonly source: { readonly host: string; readonly port: number };
    /**
     * Copy this file instead of fetching a snapshot with `redis-cli --rdb`: the source replica's own
     * `dump.rdb` on its data volume, mounted read-only into a sidecar pinned to the same host (the stock
     * AWS CLI image has no redis-cli). Redis writes the RDB to a temporary file and renames it, so the
     * file is always a complete snapshot.
     */
    readonly rdbFile?: string;
    /** File holding the Redis password (the Swarm secret). */
    readonly passwordFile?: string;
    /** Seconds between two copies (default 3600). */
    readonly intervalS?: number;
    /** Seconds before retrying after a failed copy (default 300, at most `intervalS`). */
    readonly retryS?: number;
    /** Scratch directory for the dump and the `last-success` timestamp file (default /tmp/redis-backup). */
    readonly workDir?: string;
}

/** Shell single-quoted word (inputs are already checked to hold no quote). */
function q(s: string): string {
    return `'${s}'`;
}

/** Reads the password file into $pw and refuses what redis.conf could not hold as one bare word. */
function readPassword(prog: string): string[] {
    return [
        'if [ ! -r "$secret" ]; then',
        `    echo "${prog}: cannot read the password file $secret" >&2`,
        "    exit 1",
        "fi",
        'pw=$(cat "$secret")',
        "# One word of safe characters: it is written unquoted into a Redis config line.",
        'case "$pw" in',
        `    *[!A-Za-z0-9._~+/=-]*) echo "${prog}: $secret must hold one line of A-Z a-z 0-9 . _ ~ + / = -" >&2; exit 1 ;;`,
        "esac",
        'if [ "${#pw}" -lt 16 ]; then',
        `    echo "${prog}: the password in $secret is shorter than 16 characters" >&2`,
        "    exit 1",
        "fi",
    ];
}

/**
 * Start script of a redis-server container: builds the writable config from the rendered one plus
 * `requirepass`/`masterauth` from the secret, then execs redis-server. On a restart it keeps the role
 * Sentinel gave the node (see the script's comment), and takes every other setting from the rendered file.
 */
export function renderRedisStart(i: RedisStartInput = {}): string {
    const D = REDIS_DEFAULTS;
    const sentinels = sentinelWords("sentinels", i.sentinels);
    if (sentinels !== "" && !i.self) fail("self", i.self, "this node's announced address (how the sentinels name it), with sentinels");
    const self = i.self ? `${checkHost("self.host", i.self.host)} ${checkPort("self.port", i.self.port)}` : "";
    const name = checkMasterName("masterName", i.masterName ?? D.masterName);
    const src = checkPath("configSource", i.configSource ?? D.redisConfSource);
    const conf = checkPath("configPath", i.configPath ?? D.redisConfPath);
    const secret = checkPath("passwordFile", i.passwordFile ?? D.passwordFile);
    if (src === conf) fail("configPath", conf, "a writable path other than configSource");
    return [
        "#!/bin/sh",
        "# Starts redis-server for Ops-Center. Rendered by ops-center-ha renderers/redisScripts.ts.",
        "# The rendered redis.conf (a read-only Swarm config) holds no password: this script writes a copy",
        "# with requirepass and masterauth from the Swarm secret, and runs redis-server from it.",
        "set -eu",
        ...(i.waitForRestore ? redisRestoreWaitLines(i.waitForRestore) : []),
        `src=${q(src)}`,
        `conf=${q(conf)}`,
        `secret=${q(secret)}`,
        `sentinels=${q(sentinels)}`,
        `self=${q(self)}`,
        `name=${q(name)}`,
        "prog=ops-redis-start",
        ...(i.fence ? fenceGateLines(i.fence) : []),
        ...readPassword("ops-redis-start"),
        "umask 077",
        'tmp="$conf.tmp.$$"',
        "# A container's shell is always pid 1: a copy left by a run that died midway has this very name.",
        'rm -f "$tmp"',
        'if [ -s "$conf" ]; then',
        "    # Restart. Sentinel follows every REPLICAOF it sends with CONFIG REWRITE, so the replicaof line of the",
        "    # previous copy is the master Sentinel last assigned, and no such line means Sentinel promoted this node.",
        "    # Keep that role and take everything else from the rendered file: otherwise restarting the whole tier",
        "    # after a failover would make the rendered initial master the master again and resync the newer data",
        "    # away. A stale master (down during a failover) restarts as master with min-replicas-to-write refusing",
        "    # writes, until Sentinel converts it to a replica of the current master a few seconds later.",
        "    awk '!/^(replicaof|slaveof) /' \"$src\" > \"$tmp\"",
        "    awk '/^(replicaof|slaveof) /' \"$conf\" >> \"$tmp\"",
        "else",
        "    # cat, not cp: cp would copy the Swarm config's read-only mode (0444, so 0400 under umask 077) to the",
        "    # copy, and an append would fail with \"Permission denied\" for the image's non-root user.",
        "    # No copy: an empty volume (first deploy, or a replaced host). Its rendered role may be stale: ask the",
        "    # sentinels for the master first. They name this node: it was the master, died with its data, and they",
        "    # have not failed over yet. Starting now would make it an empty master that every replica (and the",
        "    # standby region, which follows it) resyncs from, erasing the data: exit instead; Swarm restarts the task",
        "    # and, once the sentinels have promoted a replica, this node joins it. They name another node: start as",
        "    # its replica. No sentinel answers (first deploy, or none configured): the rendered role.",
        ...askSentinels().map((l) => `    ${l}`),
        '    if [ -n "$master" ] && [ "$master" = "$self" ]; then',
        '        echo "$prog: empty data and the sentinels still name this node ($self) the master: not starting as an empty master; exit until they fail over" >&2',
        "        exit 1",
        "    fi",
        '    if [ -n "$master" ]; then',
        "        awk '!/^(replicaof|slaveof) /' \"$src\" > \"$tmp\"",
        '        echo "replicaof $master" >> "$tmp"',
        '        echo "$prog: empty data: starting as a replica of $master" >&2',
        "    else",
        '        [ -z "$sentinels" ] || echo "$prog: empty data and no sentinel answers: the rendered role" >&2',
        '        cat "$src" > "$tmp"',
        "    fi",
        "fi",
        "printf 'requirepass %s\\nmasterauth %s\\n' \"$pw\" \"$pw\" >> \"$tmp\"",
        'mv -f "$tmp" "$conf"',
        'exec redis-server "$conf"',
        "",
    ].join("\n");
}

/**
 * Start script of a redis-sentinel container. Sentinel must run from a writable file that it rewrites with
 * what it learns. First start: copy the rendered file. Restart: keep the learned state (see the script's
 * comment), take the settings from the rendered file. Then append `sentinel auth-pass` and exec redis-sentinel.
 */
export function renderSentinelStart(i: SentinelStartInput = {}): string {
    const D = REDIS_DEFAULTS;
    const name = checkMasterName("masterName", i.masterName ?? D.masterName);
    const src = checkPath("configSource", i.configSource ?? D.sentinelConfSource);
    const conf = checkPath("configPath", i.configPath ?? D.sentinelConfPath);
    const secret = checkPath("passwordFile", i.passwordFile ?? D.passwordFile);
    const sentinels = sentinelWords("sentinels", i.sentinels);
    if (src === conf) fail("configPath", conf, "a writable path other than configSource");
    return [
        "#!/bin/sh",
        "# Starts redis-sentinel for Ops-Center. Rendered by ops-center-ha renderers/redisScripts.ts.",
        "# Sentinel rewrites its config file, and Swarm configs are read-only: run from a writable copy on the",
        "# data volume, with `sentinel auth-pass` appended from the Swarm secret (never in the rendered file).",
        "set -eu",
        `src=${q(src)}`,
        `conf=${q(conf)}`,
        `secret=${q(secret)}`,
        `name=${q(name)}`,
        `sentinels=${q(sentinels)}`,
        "prog=ops-sentinel-start",
        ...(i.fence ? fenceGateLines(i.fence) : []),
        ...readPassword("ops-sentinel-start"),
        "umask 077",
        'tmp="$conf.tmp.$$"',
        "# A container's shell is always pid 1: a copy left by a run that died midway has this very name.",
        'rm -f "$tmp"',
        'if [ -s "$conf" ]; then',
        "    # Restart: the copy holds what this Sentinel learned: the current master (it moves at each failover),",
        "    # its id (the other sentinels know it by it), current-epoch and leader-epoch (so it never votes twice in",
        "    # one epoch), config-epoch, and the known replicas and sentinels. Re-copying the rendered file would",
        "    # forget all that: after a restart of every sentinel they would all watch the initial master, possibly a",
        "    # replica by then, at epoch 0. So keep those lines and take every setting (down-after, quorum, timeouts)",
        "    # from the rendered file, which therefore still applies after a `pulumi up`. To forget the learned state",
        "    # on purpose (a new master name or node set), delete the copy and restart.",
        "    awk -v learned=\"$conf\" -v name=\"$name\" '",
        "        BEGIN {",
        "            while ((getline line < learned) > 0) {",
        "                n = split(line, f, \" \")",
        "                if (n < 2 || f[1] != \"sentinel\") continue",
        "                if (f[2] == \"monitor\" && f[3] == name && n >= 5) { host = f[4]; port = f[5] }",
        "                else if (f[2] == \"myid\" || f[2] == \"current-epoch\") state = state line \"\\n\"",
        "                else if (f[3] == name && (f[2] == \"config-epoch\" || f[2] == \"leader-epoch\" || f[2] == \"known-replica\" || f[2] == \"known-sentinel\")) state = state line \"\\n\"",
        "            }",
        "            close(learned)",
        "        }",
        "        $1 == \"sentinel\" && $2 == \"monitor\" && $3 == name && host != \"\" { print $1, $2, $3, host, port, $6; next }",
        "        $1 == \"sentinel\" && $2 == \"auth-pass\" { next }",
        "        { print }",
        "        END { printf \"%s\", state }",
        "    ' \"$src\" > \"$tmp\"",
        "else",
        "    # cat, not cp: cp would copy the Swarm config's read-only mode (0444, so 0400 under umask 077) to the",
        "    # copy, and an append would fail with \"Permission denied\" for the image's non-root user.",
        "    # No copy: an empty volume. Monitor the master the other sentinels report (the rendered initial master",
        "    # may be a replica, or an empty node, by now); none answers (first deploy): the rendered one.",
        ...askSentinels().map((l) => `    ${l}`),
        '    if [ -n "$master" ]; then',
        "        awk -v name=\"$name\" -v m=\"$master\" '$1 == \"sentinel\" && $2 == \"monitor\" && $3 == name { split(m, a, \" \"); print $1, $2, $3, a[1], a[2], $6; next } { print }' \"$src\" > \"$tmp\"",
        "    else",
        '        cat "$src" > "$tmp"',
        "    fi",
        "fi",
        "printf 'sentinel auth-pass %s %s\\n' \"$name\" \"$pw\" >> \"$tmp\"",
        'mv -f "$tmp" "$conf"',
        'exec redis-sentinel "$conf"',
        "",
    ].join("\n");
}

/**
 * The loop a backup sidecar runs: every `intervalS`, `redis-cli --rdb` from `source` (password from the secret
 * file via REDISCLI_AUTH, never on the command line) and `aws s3 cp` with SSE-KMS to
 * `s3://<bucket>/redis/<region>/dump-<UTC timestamp>.rdb`. The image needs both `redis-cli` and `aws`.
 * On success it writes the epoch seconds to `<workDir>/last-success` (for a container healthcheck).
 */
export function renderRdbBackupScript(i: RdbBackupInput): string {
    const D = REDIS_DEFAULTS;
    if (typeof i.region !== "string" || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(i.region)) fail("region", i.region, "an AWS region name such as us-east-1");
    if (typeof i.bucket !== "string" || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(i.bucket) || i.bucket.includes("..")) {
        fail("bucket", i.bucket, "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'");
    }
    if (typeof i.kmsKeyId !== "string" || !/^[A-Za-z0-9][A-Za-z0-9:\/_.-]{0,2047}$/.test(i.kmsKeyId)) {
        fail("kmsKeyId", i.kmsKeyId, "a KMS key id, alias/<name> or key ARN");
    }
    const host = checkHost("source.host", i.source.host);
    const port = checkPort("source.port", i.source.port);
    const secret = checkPath("passwordFile", i.passwordFile ?? D.passwordFile);
    const interval = checkInt("intervalS", i.intervalS ?? D.backupIntervalS, 60, 86_400);
    const retry = checkInt("retryS", i.retryS ?? Math.min(300, interval), 10, interval);
    const work = checkPath("workDir", i.workDir ?? D.backupWorkDir);
    const rdbFile = i.rdbFile === undefined ? undefined : checkPath("rdbFile", i.rdbFile);
    const fetch = rdbFile
        ? [
              // A Redis that started empty writes dump.rdb at its first `save` rule (never, with no write): until
              // then its data dir holds only the AOF directory, and there is nothing to copy. A dir without it is
              // not Redis' (a wrong mount): a failure.
              `    if [ ! -e ${q(rdbFile)} ] && [ -d ${q(`${posixDirname(rdbFile)}/appendonlydir`)} ]; then`,
              '        echo "ops-redis-backup: no snapshot yet (Redis has saved none since it started empty): nothing to copy"',
              '        date -u +%s > "$work/last-success"',
              "        exit 0",
              "    fi",
              `    cp ${q(rdbFile)} "$file" || exit 1`,
          ]
        : [
              '    REDISCLI_AUTH=$(cat "$secret") || exit 1',
              "    export REDISCLI_AUTH",
              '    redis-cli --no-auth-warning -h "$host" -p "$port" --rdb "$file" >/dev/null || exit 1',
              "    unset REDISCLI_AUTH",
          ];
    return [
        "#!/bin/sh",
        "# Copies a fresh Redis RDB snapshot to this region's S3 bucket every interval (the design's hourly S3 sync).",
        "# Rendered by ops-center-ha renderers/redisScripts.ts. AOF on the Redis volume stays the first line of",
        "# recovery; this is the off-host copy.",
        "set -u",
        `host=${q(host)}`,
        `port=${port}`,
        `secret=${q(secret)}`,
        `bucket=${q(i.bucket)}`,
        `region=${q(i.region)}`,
        `kms_key=${q(i.kmsKeyId)}`,
        `interval=${interval}`,
        `retry=${retry}`,
        `work=${q(work)}`,
        `for bin in ${rdbFile ? "aws" : "redis-cli aws"}; do`,
        '    if ! command -v "$bin" >/dev/null 2>&1; then',
        `        echo "ops-redis-backup: $bin is not on PATH; the sidecar image needs ${rdbFile ? "the AWS CLI" : "redis-cli and the AWS CLI"}" >&2`,
        "        exit 1",
        "    fi",
        "done",
        'mkdir -p "$work"',
        "# One copy, in a subshell so the password in REDISCLI_AUTH never outlives redis-cli. (set -e does not",
        "# apply inside an `if` condition, hence the explicit `|| exit 1`.)",
        "backup_once() (",
        '    ts=$(date -u +%Y%m%dT%H%M%SZ)',
        '    file="$work/dump-$ts.rdb"',
        "    trap 'rm -f \"$file\"' EXIT",
        ...fetch,
        '    [ -s "$file" ] || exit 1',
        '    aws s3 cp --only-show-errors --region "$region" --sse aws:kms --sse-kms-key-id "$kms_key" \\',
        '        "$file" "s3://$bucket/redis/$region/dump-$ts.rdb" || exit 1',
        '    date -u +%s > "$work/last-success"',
        '    echo "ops-redis-backup: uploaded s3://$bucket/redis/$region/dump-$ts.rdb"',
        ")",
        "while :; do",
        "    if backup_once; then",
        '        sleep "$interval"',
        "    else",
        '        echo "ops-redis-backup: copy failed, retrying in $retry s" >&2',
        '        sleep "$retry"',
        "    fi",
        "done",
        "",
    ].join("\n");
}

/** The directory part of an absolute POSIX path (checked by checkPath). */
function posixDirname(p: string): string {
    const i = p.lastIndexOf("/");
    return i <= 0 ? "/" : p.slice(0, i);
}
