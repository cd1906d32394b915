/**
 * How the Docker provider reaches a Swarm manager over SSH (issue 12 item 10). Pure.
 *
 * The Docker CLI's `ssh://` transport runs the system `ssh` (pulumi-docker's `sshOpts`: "Additional SSH option flags to
 * be appended when using `ssh://` protocol", @pulumi/docker provider docs), so OpenSSH client options decide the path:
 *
 * - **Target: the manager's instance id, through an SSM Session Manager session** (`ProxyCommand aws ssm
 *   start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p`, the ssh_config AWS's
 *   Session Manager guide gives for "Allowing SSH connections for Session Manager"). The session is authenticated by
 *   IAM and lands on exactly that instance: no jump through the edge EIP, which two hosts serve in turn (with
 *   `accept-new` the first host's key was pinned for the address and the other host was refused after a VIP move),
 *   no inbound SSH from the internet, and no dependence on which edge host holds the EIP.
 *   Chosen over per-instance `HostKeyAlias` entries through the EIP because those still route every session through
 *   the edge host holding the EIP, and still need an admin CIDR open on port 22.
 * - **Host keys: strict, from what the hosts published.** Each host writes `<instance-id> <type> <key>` of its
 *   ed25519 host key to `<prefix>/hostkeys/<instance-id>` at first boot (cloud-init, through its instance role);
 *   `KnownHostsCommand` reads that parameter for `%H` (the instance id), `StrictHostKeyChecking yes` refuses anything
 *   else, and `UserKnownHostsFile /dev/null` means no key seen on first use is ever trusted or stored (a CI runner
 *   never trusts an arbitrary key).
 * - **Connection reuse:** `ControlMaster auto` + `ControlPersist` multiplex the provider's parallel `docker system
 *   dial-stdio` sessions over one SSM session; managers raise sshd's `MaxSessions` (default 10) to match.
 */

/** Input of {@link dockerSshPath}. */
export interface DockerSshPathInput {
    /** Login user of the AMI (in the `docker` group on the hosts). */
    readonly user: string;
    /** EC2 instance id of the manager to reach. */
    readonly instanceId: string;
    /** AWS region of the instance and of the host-key parameters. */
    readonly region: string;
    /** SSM folder holding `<instance-id>` -> known_hosts line, e.g. `/ops-center-ha/<stack>/swarm/hostkeys`. */
    readonly hostKeyParameterPrefix: string;
    /** How long an idle multiplexed connection stays open, minutes (default 10). */
    readonly controlPersistMinutes?: number;
}

export const SSH_PATH_DEFAULTS = {
    controlPersistMinutes: 10,
    /** sshd MaxSessions on the managers: multiplexed sessions per connection (OpenSSH's default is 10). */
    managerMaxSessions: 64,
    controlPath: "~/.ssh/cm-ops-center-ha-%C",
} as const;

/** The provider's `host` and `sshOpts` for one manager. Throws naming the field on bad input. */
export function dockerSshPath(input: DockerSshPathInput): { host: string; sshOpts: string[] } {
    const bad = (field: string, v: unknown, allowed: string): never => {
        throw new Error(`docker ssh path: ${field} = ${JSON.stringify(v)} is invalid: ${allowed}`);
    };
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(input.user)) bad("user", input.user, "a Unix user name");
    if (!/^i-[0-9a-f]{8,17}$/.test(input.instanceId)) bad("instanceId", input.instanceId, "an EC2 instance id (i-...): SSM sessions target instances");
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(input.region)) bad("region", input.region, "an AWS region such as us-east-1");
    if (!/^\/[A-Za-z0-9_.\/-]+[^/]$/.test(input.hostKeyParameterPrefix)) bad("hostKeyParameterPrefix", input.hostKeyParameterPrefix, "an SSM path without a trailing /");
    const persist = input.controlPersistMinutes ?? SSH_PATH_DEFAULTS.controlPersistMinutes;
    if (!Number.isInteger(persist) || persist < 1 || persist > 120) bad("controlPersistMinutes", persist, "an integer from 1 to 120");
    const o = (k: string, v: string) => ["-o", `${k}=${v}`];
    return {
        host: `ssh://${input.user}@${input.instanceId}`,
        sshOpts: [
            ...o("ProxyCommand", `aws ssm start-session --region ${input.region} --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p`),
            ...o("StrictHostKeyChecking", "yes"),
            ...o("UserKnownHostsFile", "/dev/null"),
            // ssh runs it without a shell (absolute path required) and reads known_hosts lines from its output.
            ...o("KnownHostsCommand", `/usr/bin/env aws ssm get-parameter --region ${input.region} --name ${input.hostKeyParameterPrefix}/%H --query Parameter.Value --output text`),
            ...o("ControlMaster", "auto"),
            ...o("ControlPath", SSH_PATH_DEFAULTS.controlPath),
            ...o("ControlPersist", `${persist}m`),
        ],
    };
}

/** The shell line a host runs at first boot to publish its ed25519 host key (bounded retries). */
export function publishHostKeyCommand(region: string, hostKeyParameterPrefix: string, imds = "http://169.254.169.254"): string {
    return (
        `for i in 1 2 3 4 5; do ` +
        `t=$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' ${imds}/latest/api/token) && ` +
        `iid=$(curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $t" ${imds}/latest/meta-data/instance-id) && ` +
        `aws ssm put-parameter --region ${region} --name ${hostKeyParameterPrefix}/$iid --type String --overwrite ` +
        `--value "$iid $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" >/dev/null && break; sleep 5; done`
    );
}
