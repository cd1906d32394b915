/**
 * `npm run plan -- <stack> --render <dir>`: every file a container or host will read, taken from the
 * registered resources themselves (so it is exactly what ships): Swarm configs, EC2 user data, SSM
 * parameters that hosts read as files. Secret values are never written: a secret resource is listed
 * by name with its value redacted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isSecretValue, OfflinePlan } from "./engine";

export interface RenderedFile {
    readonly file: string;
    readonly text: string;
}

const plainString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The rendered files of a plan, one per resource and purpose. */
export function renderedFiles(plan: OfflinePlan): RenderedFile[] {
    const out: RenderedFile[] = [];
    for (const r of plan.resources) {
        const inputs = r.inputs;
        switch (r.type) {
            case "docker:index/serviceConfig:ServiceConfig": {
                const data = plainString(inputs.data);
                if (data !== undefined) out.push({ file: `swarm-configs/${inputs.name ?? r.name}`, text: Buffer.from(data, "base64").toString("utf8") });
                break;
            }
            case "docker:index/secret:Secret":
                out.push({ file: `swarm-secrets/${r.name}.redacted`, text: "[secret: delivered to /run/secrets at task start, never rendered]\n" });
                break;
            case "aws:ec2/instance:Instance":
            case "aws:ec2/launchTemplate:LaunchTemplate": {
                const ud = plainString(inputs.userData) ?? (plainString(inputs.userDataBase64) && Buffer.from(String(inputs.userDataBase64), "base64").toString("utf8"));
                if (ud) out.push({ file: `hosts/${r.name}.cloud-init.yaml`, text: ud });
                break;
            }
            case "aws:ssm/parameter:Parameter": {
                const v = inputs.insecureValue ?? inputs.value;
                if (isSecretValue(v) || inputs.type === "SecureString") out.push({ file: `ssm/${r.name}.redacted`, text: "[secret]\n" });
                else if (typeof v === "string") out.push({ file: `ssm/${r.name}`, text: v });
                break;
            }
            case "aws:ssm/document:Document": {
                const c = plainString(inputs.content);
                if (c) out.push({ file: `ssm-documents/${r.name}.${inputs.documentFormat === "JSON" ? "json" : "yaml"}`, text: c });
                break;
            }
        }
    }
    return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Writes the rendered files under `dir`; returns how many were written. */
export function writeRendered(plan: OfflinePlan, dir: string): number {
    const files = renderedFiles(plan);
    for (const f of files) {
        const target = path.join(dir, plan.stack, f.file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, f.text);
    }
    return files.length;
}
