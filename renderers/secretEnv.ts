/**
 * A POSIX-sh start script for a process that can only take a secret from its environment (redis_exporter's
 * REDIS_PASSWORD, for example): it exports each variable from its Swarm secret file, refusing a missing or
 * empty file, and execs the process. The secret never appears in the service spec or in a config file.
 * Pure: no Pulumi, no I/O.
 */

/** Input of {@link renderSecretEnvStart}. */
export interface SecretEnvStartInput {
    /** Environment variable name -> absolute path of the secret file it is read from. */
    readonly vars: Readonly<Record<string, string>>;
    /** The program and its arguments, exec'd once the variables are set. */
    readonly exec: readonly string[];
}

const VAR = /^[A-Z_][A-Z0-9_]*$/;
const PATH = /^\/[A-Za-z0-9_./-]+$/;
const WORD = /^[A-Za-z0-9_./:=,@+-]+$/;

export function renderSecretEnvStart(input: SecretEnvStartInput): string {
    const entries = Object.entries(input.vars);
    if (entries.length === 0) throw new Error("vars: empty; name at least one variable and its secret file");
    for (const [name, file] of entries) {
        if (!VAR.test(name)) throw new Error(`vars: ${JSON.stringify(name)} is not an environment variable name ([A-Z_][A-Z0-9_]*)`);
        if (!PATH.test(file)) throw new Error(`vars.${name}: ${JSON.stringify(file)} is not an absolute path of [A-Za-z0-9_./-]`);
    }
    if (input.exec.length === 0 || !input.exec[0].startsWith("/")) throw new Error(`exec: ${JSON.stringify(input.exec)} must start with the program's absolute path`);
    for (const w of input.exec) if (!WORD.test(w)) throw new Error(`exec: ${JSON.stringify(w)} holds characters that need quoting; use plain words`);
    const lines = ["#!/bin/sh", "# Rendered by ops-center-ha renderers/secretEnv.ts: secrets from files into the environment, then exec.", "set -eu"];
    for (const [name, file] of entries) {
        lines.push(
            `if [ ! -s '${file}' ]; then echo "start: secret file ${file} for ${name} is missing or empty" >&2; exit 1; fi`,
            `${name}=$(cat '${file}')`,
            `export ${name}`,
        );
    }
    lines.push(`exec ${input.exec.join(" ")}`, "");
    return lines.join("\n");
}
