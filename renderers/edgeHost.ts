/**
 * How keepalived's files reach the edge hosts without a Swarm service: the program stores each host's
 * rendered files in SSM Parameter Store (the auth include as a SecureString), and an SSM association runs
 * the script rendered here on one edge host at a time (`maxConcurrency: 1`, `maxErrors: 0`). The script
 * fetches the files, has keepalived check the new config (`keepalived -t`) before it replaces the old one,
 * reloads keepalived, and waits until this host is healthy again before SSM moves to the next host, so a
 * config change never takes both edge hosts down at once.
 */
import { EIP_RECHECK_DEFAULTS, renderEipRecheckUnits } from "./eipRecheck";
import { KEEPALIVED_DEFAULTS } from "./keepalived";

/** Input of {@link renderKeepalivedApplyScript}. */
export interface KeepalivedApplyInput {
    /** SSM path prefix of this stack's edge files, e.g. `/ops-center-ha/us-east-1/edge`. */
    readonly parameterPrefix: string;
    /** AWS region of the parameters. */
    readonly region: string;
    /** Directory keepalived reads (default /etc/keepalived; tests point it elsewhere). */
    readonly configDir?: string;
    /** aws CLI (Debian's `awscli` package). */
    readonly awsCli?: string;
    /** Instance metadata endpoint (IMDSv2). */
    readonly imdsEndpoint?: string;
    /** Seconds to wait for keepalived to run again after the reload (1-120). */
    readonly settleSeconds?: number;
    /** Directory of the EIP re-check's state file (default /var/lib/keepalived-edge), owned by `scriptUser`. */
    readonly stateDir?: string;
    /** keepalived's script user (default keepalived_script, created by cloud-init). */
    readonly scriptUser?: string;
    /** Where the re-check's systemd units go (default /etc/systemd/system). */
    readonly systemdDir?: string;
}

export const EDGE_HOST_DEFAULTS = {
    configDir: "/etc/keepalived",
    awsCli: "/usr/bin/aws",
    settleSeconds: 30,
} as const;

/** SSM parameter names of one host's files under the prefix (the host is named by its instance id). */
export function edgeParameterNames(prefix: string, instanceId: string) {
    return {
        conf: `${prefix}/${instanceId}/keepalived.conf`,
        notify: `${prefix}/notify_master.sh`,
        recheck: `${prefix}/eip_recheck.sh`,
        auth: `${prefix}/auth.conf`,
    };
}

/** The POSIX sh script the SSM association runs on each edge host. */
export function renderKeepalivedApplyScript(input: KeepalivedApplyInput): string {
    if (!/^\/[A-Za-z0-9_.\/-]+[^/]$/.test(input.parameterPrefix)) {
        throw new Error(`parameterPrefix: ${JSON.stringify(input.parameterPrefix)} is not allowed (an SSM path such as /ops-center-ha/us-east-1/edge)`);
    }
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(input.region)) throw new Error(`region: ${JSON.stringify(input.region)} is not an AWS region`);
    const dir = input.configDir ?? EDGE_HOST_DEFAULTS.configDir;
    const aws = input.awsCli ?? EDGE_HOST_DEFAULTS.awsCli;
    const imds = input.imdsEndpoint ?? KEEPALIVED_DEFAULTS.imdsEndpoint;
    const settle = input.settleSeconds ?? EDGE_HOST_DEFAULTS.settleSeconds;
    if (!Number.isInteger(settle) || settle < 1 || settle > 120) throw new Error(`settleSeconds: ${settle} is not allowed (integer 1-120)`);
    const names = edgeParameterNames(input.parameterPrefix, "$IID");
    const stateDir = input.stateDir ?? EIP_RECHECK_DEFAULTS.stateDir;
    const scriptUser = input.scriptUser ?? KEEPALIVED_DEFAULTS.scriptUser;
    const systemdDir = input.systemdDir ?? "/etc/systemd/system";
    for (const [k, v] of [["stateDir", stateDir], ["systemdDir", systemdDir]]) {
        if (!/^\/[A-Za-z0-9_.\/-]+$/.test(v)) throw new Error(`${k}: ${JSON.stringify(v)} is not allowed (an absolute path)`);
    }
    const units = renderEipRecheckUnits({ scriptUser, path: `${dir}/eip_recheck.sh` });
    const unit = EIP_RECHECK_DEFAULTS.unitName;
    return `#!/bin/sh
# Applies this edge host's keepalived files from SSM Parameter Store. Rendered by ops-center-ha.
set -eu
DIR='${dir}'
AWS='${aws}'
REGION='${input.region}'
TOKEN=$(curl -fsS --max-time 2 -X PUT '${imds}/latest/api/token' -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
IID=$(curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $TOKEN" '${imds}/latest/meta-data/instance-id')
get() { "$AWS" ssm get-parameter --region "$REGION" --name "$1" --with-decryption --query Parameter.Value --output text; }

umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
get "${names.conf}" > "$TMP/keepalived.conf"
get "${names.notify}" > "$TMP/notify_master.sh"
get "${names.auth}" > "$TMP/auth.conf"
get "${names.recheck}" > "$TMP/eip_recheck.sh"

mkdir -p "$DIR"
install -m 0600 "$TMP/auth.conf" "$DIR/auth.conf"
install -m 0755 "$TMP/notify_master.sh" "$DIR/notify_master.sh"
install -m 0755 "$TMP/eip_recheck.sh" "$DIR/eip_recheck.sh"
# The EIP re-check: keepalived's state is recorded by the script user; a timer re-checks while MASTER.
install -d -m 0755 '${stateDir}'
chown '${scriptUser}' '${stateDir}'
cat > '${systemdDir}/${unit}.service' <<'UNIT'
${units.service}UNIT
cat > '${systemdDir}/${unit}.timer' <<'UNIT'
${units.timer}UNIT
install -m 0644 "$TMP/keepalived.conf" "$DIR/keepalived.conf.new"
# Refuse a config keepalived itself rejects: the running one stays. keepalived 2.2.7 (Debian 12) ends a
# passing config test with SIGTERM (exit 143) when script_user is set (keepalived issue 2617, fixed in 2.2.8).
rc=0
keepalived -t -f "$DIR/keepalived.conf.new" || rc=$?
case "$rc" in
    0|143) ;;
    *)
        echo "keepalived rejected the new config (exit $rc); keeping the running one" >&2
        rm -f "$DIR/keepalived.conf.new"
        exit 1
        ;;
esac
mv "$DIR/keepalived.conf.new" "$DIR/keepalived.conf"
systemctl enable keepalived >/dev/null 2>&1 || true
systemctl reload-or-restart keepalived
systemctl daemon-reload
systemctl enable --now ${unit}.timer

# Report success only once keepalived runs again, so that SSM moves to the next host only then.
i=0
while [ "$i" -lt ${settle} ]; do
    if systemctl is-active --quiet keepalived; then
        echo "keepalived running with the new config on $IID"
        exit 0
    fi
    i=$((i + 1))
    sleep 1
done
echo "keepalived is not running ${settle}s after the reload on $IID" >&2
exit 1
`;
}

/** The SSM Command document (schema 2.2) wrapping the script; `ContentHash` makes a change re-run it. */
export function renderKeepalivedApplyDocument(input: KeepalivedApplyInput): string {
    return JSON.stringify(
        {
            schemaVersion: "2.2",
            description: "Apply ops-center-ha keepalived files on an edge host (one host at a time)",
            parameters: { ContentHash: { type: "String", description: "Hash of the files; a change re-runs the association", default: "none" } },
            mainSteps: [
                {
                    action: "aws:runShellScript",
                    name: "applyKeepalived",
                    inputs: { timeoutSeconds: "300", runCommand: renderKeepalivedApplyScript(input).split("\n") },
                },
            ],
        },
        null,
        2,
    );
}
