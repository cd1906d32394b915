/**
 * alertmanager.yml (and, for Alertmanager < 0.26, its start script).
 *
 * Routes by severity: critical pages the webhook (and the e-mail receiver when configured), warning
 * goes to e-mail when configured, else to the webhook. Critical inhibits warning for the same alert
 * and instance; a region without a Postgres leader or without backends mutes the alerts that follow from it.
 *
 * The webhook URL is a secret (chat and paging webhooks carry their token in the URL) and never
 * appears in the rendered file:
 * - Alertmanager >= 0.26 (the production image) reads it with `webhook_configs[].url_file`.
 * - Alertmanager 0.25 (Debian 12's package, which the tests run) has no `url_file`: the rendered file
 *   holds a placeholder URL on the reserved `.invalid` domain, and {@link renderAlertmanagerStartScript}
 *   writes a copy with the secret's URL in its place before it starts Alertmanager.
 * The SMTP password, when any, is read with `auth_password_file` (0.25+). Pure: no Pulumi, no I/O.
 */
import { stringify } from "yaml";
import { checkDuration, MONITORING_DEFAULTS } from "./prometheus";

/** Webhook receiver whose URL comes from a secret file. */
export interface WebhookReceiverInput {
    /** Name of the Swarm secret (file in `secretsDir`) holding the URL, one line, http:// or https://. */
    readonly urlSecret: string;
    /** Also notify when an alert resolves (default true). */
    readonly sendResolved?: boolean;
}

/** Optional e-mail receiver. No password in the file: it is read from a secret. */
export interface EmailReceiverInput {
    /** Recipient address. */
    readonly to: string;
    /** Sender address. */
    readonly from: string;
    /** SMTP server as host:port. */
    readonly smarthost: string;
    /** SMTP user name, when the server needs authentication. */
    readonly authUsername?: string;
    /** Name of the Swarm secret holding the SMTP password (required with `authUsername`). */
    readonly authPasswordSecret?: string;
    /** Require STARTTLS (default true). */
    readonly requireTls?: boolean;
}

/** Input of {@link renderAlertmanagerYml} and {@link renderAlertmanagerStartScript}; omitted fields take `MONITORING_DEFAULTS`. */
export interface AlertmanagerInput {
    /** Alertmanager version that will load the file ("0.27.0"); decides url_file or start script. */
    readonly version?: string;
    /** Directory of the secret files (Swarm mounts them in /run/secrets). */
    readonly secretsDir?: string;
    /** The paging webhook (required). */
    readonly webhook: WebhookReceiverInput;
    /** E-mail receiver for warnings (and a copy of critical alerts). */
    readonly email?: EmailReceiverInput;
    /** Wait before the first notification of a new group. */
    readonly groupWait?: string;
    /** Wait before notifying about new alerts added to a group. */
    readonly groupInterval?: string;
    /** `group_wait` of the critical route. */
    readonly criticalGroupWait?: string;
    /** Repeat interval of firing critical alerts. */
    readonly criticalRepeatInterval?: string;
    /** Repeat interval of firing warnings. */
    readonly warningRepeatInterval?: string;
    /** Alerts without an end time are resolved after this long without an update. */
    readonly resolveTimeout?: string;
    /** Where the rendered file is mounted (read by the start script, < 0.26 only). */
    readonly configPath?: string;
    /** Writable path the start script writes the completed file to (< 0.26 only). */
    readonly generatedConfigPath?: string;
    /** Alertmanager binary the start script execs (< 0.26 only). */
    readonly binary?: string;
}

/** How the webhook URL reaches Alertmanager. */
export type WebhookSecretMode = "url_file" | "start_script";

/** Version from which `webhook_configs` accept `url_file` (prometheus/alertmanager#3223). */
export const URL_FILE_MIN_VERSION = "0.26.0";

/** `url_file` from Alertmanager 0.26 on; a start script that fills a placeholder before that. */
export function webhookSecretMode(version: string): WebhookSecretMode {
    const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
    if (!m) throw new Error(`version: ${JSON.stringify(version)} is not an Alertmanager version (e.g. "0.27.0")`);
    const [maj, min] = [Number(m[1]), Number(m[2])];
    return maj > 0 || min >= 26 ? "url_file" : "start_script";
}

/** Version of an Alertmanager image from its tag: "prom/alertmanager:v0.27.0" -> "0.27.0". */
export function alertmanagerVersionFromImage(image: string): string {
    const m = /:v?(\d+\.\d+\.\d+)(@sha256:[0-9a-f]{64})?$/.exec(image);
    if (!m) throw new Error(`alertmanagerImage: ${JSON.stringify(image)} has no version tag (e.g. "prom/alertmanager:v0.27.0")`);
    return m[1];
}

/** The placeholder URL the start script replaces (reserved `.invalid` TLD: never resolves if left in place). */
export function webhookPlaceholder(urlSecret: string): string {
    return `https://webhook-url-from-secret.invalid/${urlSecret}`;
}

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ABS_PATH = /^\/[A-Za-z0-9._/-]*$/;
const EMAIL = /^[^\s@'"]+@[A-Za-z0-9.-]+$/;

function checkSecret(field: string, v: string): string {
    if (!SECRET_NAME.test(v)) throw new Error(`${field}: ${JSON.stringify(v)} is not a Swarm secret name ([A-Za-z0-9._-], at most 64 characters)`);
    return v;
}

function checkAbsPath(field: string, v: string): string {
    if (!ABS_PATH.test(v) || v.includes("//")) throw new Error(`${field}: ${JSON.stringify(v)} is not an absolute path of [A-Za-z0-9._/-]`);
    return v;
}

interface Resolved {
    version: string;
    mode: WebhookSecretMode;
    secretsDir: string;
    webhook: Required<WebhookReceiverInput>;
    email?: EmailReceiverInput;
    timing: Record<"groupWait" | "groupInterval" | "criticalGroupWait" | "criticalRepeatInterval" | "warningRepeatInterval" | "resolveTimeout", string>;
    configPath: string;
    generatedConfigPath: string;
    binary: string;
}

function resolve(input: AlertmanagerInput): Resolved {
    const n = MONITORING_DEFAULTS.notify;
    const version = input.version ?? MONITORING_DEFAULTS.alertmanagerVersion;
    const mode = webhookSecretMode(version);
    const secretsDir = checkAbsPath("secretsDir", (input.secretsDir ?? n.secretsDir).replace(/\/$/, ""));
    const webhook = { urlSecret: checkSecret("webhook.urlSecret", input.webhook.urlSecret), sendResolved: input.webhook.sendResolved ?? true };
    const timing = {
        groupWait: checkDuration("groupWait", input.groupWait ?? n.groupWait),
        groupInterval: checkDuration("groupInterval", input.groupInterval ?? n.groupInterval),
        criticalGroupWait: checkDuration("criticalGroupWait", input.criticalGroupWait ?? n.criticalGroupWait),
        criticalRepeatInterval: checkDuration("criticalRepeatInterval", input.criticalRepeatInterval ?? n.criticalRepeatInterval),
        warningRepeatInterval: checkDuration("warningRepeatInterval", input.warningRepeatInterval ?? n.warningRepeatInterval),
        resolveTimeout: checkDuration("resolveTimeout", input.resolveTimeout ?? n.resolveTimeout),
    };
    const e = input.email;
    if (e) {
        if (!EMAIL.test(e.to)) throw new Error(`email.to: ${JSON.stringify(e.to)} is not an e-mail address`);
        if (!EMAIL.test(e.from)) throw new Error(`email.from: ${JSON.stringify(e.from)} is not an e-mail address`);
        if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(e.smarthost)) throw new Error(`email.smarthost: ${JSON.stringify(e.smarthost)} is not host:port`);
        if ((e.authUsername === undefined) !== (e.authPasswordSecret === undefined)) {
            throw new Error("email.authUsername / email.authPasswordSecret: give both (authenticated SMTP) or neither");
        }
        if (e.authPasswordSecret !== undefined) checkSecret("email.authPasswordSecret", e.authPasswordSecret);
        if (e.authUsername !== undefined && !/^\S+$/.test(e.authUsername)) throw new Error(`email.authUsername: ${JSON.stringify(e.authUsername)} must not be empty or contain spaces`);
    }
    return {
        version,
        mode,
        secretsDir,
        webhook,
        email: e,
        timing,
        configPath: checkAbsPath("configPath", input.configPath ?? n.configPath),
        generatedConfigPath: checkAbsPath("generatedConfigPath", input.generatedConfigPath ?? n.generatedConfigPath),
        binary: checkAbsPath("binary", input.binary ?? n.binary),
    };
}

/** Renders alertmanager.yml. Contains no secret: only secret file paths (or, before 0.26, a placeholder URL). */
export function renderAlertmanagerYml(input: AlertmanagerInput): string {
    const r = resolve(input);
    const webhookConfig =
        r.mode === "url_file"
            ? { url_file: `${r.secretsDir}/${r.webhook.urlSecret}`, send_resolved: r.webhook.sendResolved }
            : { url: webhookPlaceholder(r.webhook.urlSecret), send_resolved: r.webhook.sendResolved };
    const e = r.email;
    const emailConfig = e
        ? {
              to: e.to,
              from: e.from,
              smarthost: e.smarthost,
              require_tls: e.requireTls ?? true,
              send_resolved: true,
              ...(e.authUsername !== undefined ? { auth_username: e.authUsername, auth_password_file: `${r.secretsDir}/${e.authPasswordSecret}` } : {}),
          }
        : undefined;
    const doc = {
        global: { resolve_timeout: r.timing.resolveTimeout },
        route: {
            receiver: "webhook",
            group_by: ["alertname", "region"],
            group_wait: r.timing.groupWait,
            group_interval: r.timing.groupInterval,
            repeat_interval: r.timing.warningRepeatInterval,
            routes: [
                {
                    receiver: "critical",
                    matchers: ['severity="critical"'],
                    group_wait: r.timing.criticalGroupWait,
                    repeat_interval: r.timing.criticalRepeatInterval,
                },
                {
                    receiver: "warning",
                    matchers: ['severity="warning"'],
                    repeat_interval: r.timing.warningRepeatInterval,
                },
            ],
        },
        receivers: [
            { name: "webhook", webhook_configs: [webhookConfig] },
            { name: "critical", webhook_configs: [webhookConfig], ...(emailConfig ? { email_configs: [emailConfig] } : {}) },
            emailConfig ? { name: "warning", email_configs: [emailConfig] } : { name: "warning", webhook_configs: [webhookConfig] },
        ],
        inhibit_rules: [
            { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "region", "instance"] },
            {
                source_matchers: ['alertname="PatroniNoLeader"'],
                target_matchers: ['alertname=~"PostgresReplicationLagHigh|WalArchivingStale"'],
                equal: ["region"],
            },
            {
                source_matchers: ['alertname="BackendUnavailable"'],
                target_matchers: ['alertname=~"BackendDown|HighErrorRate|DatabaseConnectionPoolExhausted"'],
                equal: ["region"],
            },
        ],
    };
    const how =
        r.mode === "url_file"
            ? `# The webhook URL is read from ${r.secretsDir}/${r.webhook.urlSecret} (url_file, Alertmanager >= ${URL_FILE_MIN_VERSION}).\n`
            : `# Alertmanager ${r.version} has no url_file: the start script replaces the placeholder URL with ${r.secretsDir}/${r.webhook.urlSecret}.\n`;
    return `# Rendered by ops-center-ha renderers/alertmanager.ts for Alertmanager ${r.version}. Do not edit.\n${how}` + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Single-quotes a string for POSIX sh. */
function shq(v: string): string {
    return `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * Start script for Alertmanager < 0.26 (POSIX sh): reads the webhook URL from its secret file, writes
 * `generatedConfigPath` (mode 0600) from the mounted file with the placeholder replaced, and execs
 * `binary --config.file=<generated> "$@"` (pass `--storage.path` etc. as the service's arguments).
 * Throws for Alertmanager >= 0.26, which needs no script (url_file).
 */
export function renderAlertmanagerStartScript(input: AlertmanagerInput): string {
    const r = resolve(input);
    if (r.mode === "url_file") {
        throw new Error(`version: Alertmanager ${r.version} reads the webhook URL with url_file (>= ${URL_FILE_MIN_VERSION}); no start script is needed`);
    }
    const secret = `${r.secretsDir}/${r.webhook.urlSecret}`;
    return `#!/bin/sh
# Rendered by ops-center-ha renderers/alertmanager.ts for Alertmanager ${r.version}. Do not edit.
# Alertmanager < ${URL_FILE_MIN_VERSION} cannot read a webhook URL from a file: copy the mounted config to a
# writable file with the placeholder replaced by the URL from the secret, then start Alertmanager on the copy.
set -eu
secret=${shq(secret)}
template=${shq(r.configPath)}
out=${shq(r.generatedConfigPath)}
placeholder=${shq(webhookPlaceholder(r.webhook.urlSecret))}

[ -r "$secret" ] || { echo "alertmanager-start: secret $secret is missing or unreadable" >&2; exit 1; }
url=$(head -n 1 "$secret" | tr -d '\\r')
case "$url" in
    http://?*|https://?*) ;;
    *) echo "alertmanager-start: $secret must hold one http:// or https:// URL" >&2; exit 1 ;;
esac
case "$url" in
    *"'"*|*' '*) echo "alertmanager-start: the URL in $secret must not contain quotes or spaces (percent-encode them)" >&2; exit 1 ;;
esac

grep -qF "$placeholder" "$template" || { echo "alertmanager-start: $template has no webhook placeholder (rendered for another version?)" >&2; exit 1; }

umask 077
# awk reads the URL from the file itself: no shell or sed interpretation of '&', '\\\\' or '/' in it.
awk -v ph="$placeholder" -v f="$secret" '
    BEGIN { if ((getline u < f) <= 0) exit 2; sub(/\\r$/, "", u) }
    { s = $0; o = ""
      while ((i = index(s, ph)) > 0) { o = o substr(s, 1, i - 1) u; s = substr(s, i + length(ph)) }
      print o s }
' "$template" > "$out.tmp"
mv "$out.tmp" "$out"
exec ${shq(r.binary)} --config.file="$out" "$@"
`;
}
