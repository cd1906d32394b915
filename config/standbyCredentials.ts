/**
 * The passwords a region built as a standby holds in its own secret config (`standbyCredentials`): the primary's
 * values, copied once (`npm run promote -- copy-credentials <stack>`), so that the region keeps them across
 * promotion and never needs the primary's stack to know them. Pure: no Pulumi, no I/O.
 */

/** The passwords shared by the tiers (components/credentials.ts ships each as a Swarm secret). */
export const CREDENTIAL_NAMES = ["pgSuperuser", "pgReplication", "pgApp", "pgMonitor", "redis"] as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];

/** Which secret stack output of the primary carries which credential (the copy step reads them). */
export const CREDENTIAL_OUTPUTS = {
    pgSuperuser: "pgSuperuserPassword",
    pgReplication: "pgReplicationPassword",
    pgApp: "pgAppPassword",
    pgMonitor: "pgMonitorPassword",
    redis: "redisPassword",
} as const satisfies Record<CredentialName, string>;

/**
 * Problems of a `standbyCredentials` value, one line each, never quoting a password: a JSON object with exactly
 * the five names, each 16-128 letters or digits (what the primary's RandomPassword generates).
 */
export function standbyCredentialsProblems(text: string): string[] {
    let v: unknown;
    try {
        v = JSON.parse(text);
    } catch {
        return ["is not JSON: it must be an object with " + CREDENTIAL_NAMES.join(", ")];
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) return ["must be a JSON object with " + CREDENTIAL_NAMES.join(", ")];
    const o = v as Record<string, unknown>;
    const problems: string[] = [];
    for (const n of CREDENTIAL_NAMES) {
        const p = o[n];
        if (typeof p !== "string" || !/^[A-Za-z0-9]{16,128}$/.test(p)) problems.push(`${n} must be 16-128 letters or digits (the primary's value)`);
    }
    for (const extra of Object.keys(o).filter((x) => !(CREDENTIAL_NAMES as readonly string[]).includes(x))) problems.push(`has an unknown name ${JSON.stringify(extra)}: allowed are ${CREDENTIAL_NAMES.join(", ")}`);
    return problems;
}

/** Parses a value that passed {@link standbyCredentialsProblems}. */
export function parseStandbyCredentials(text: string): Record<CredentialName, string> {
    const problems = standbyCredentialsProblems(text);
    if (problems.length > 0) throw new Error(`standbyCredentials ${problems.join("; ")}`);
    const o = JSON.parse(text) as Record<string, string>;
    return Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, o[n]])) as Record<CredentialName, string>;
}

/** The value `copy-credentials` stores, from the primary's stack outputs (`pulumi stack output --json --show-secrets`). */
export function standbyCredentialsFromOutputs(outputs: Record<string, unknown>): string {
    const o: Record<string, string> = {};
    for (const n of CREDENTIAL_NAMES) {
        const v = outputs[CREDENTIAL_OUTPUTS[n]];
        if (typeof v !== "string" || v === "") throw new Error(`the primary's stack has no output ${CREDENTIAL_OUTPUTS[n]} (run pulumi up on the primary first)`);
        o[n] = v;
    }
    const text = JSON.stringify(o);
    const problems = standbyCredentialsProblems(text);
    if (problems.length > 0) throw new Error(`the primary's credentials: ${problems.join("; ")}`);
    return text;
}

/** A well-formed stand-in for offline plans (a fresh clone holds no secret): a distinct fixed value per name. */
export function offlineStandbyCredentials(): string {
    return JSON.stringify(Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, `offlinePlaceholder${n}0000`])));
}
