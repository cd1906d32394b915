/** The AWS region a stack deploys to (shared by the cost and diff CLIs). */
import { readStackConfig } from "../offline/engine";

/** The stack's AWS region: its Pulumi.<stack>.yaml, else the stack name when it is a region. */
export function regionOf(root: string, stack: string): string {
    try {
        const r = readStackConfig(root, stack).values["aws:region"];
        if (r) return r;
    } catch {
        // no stack file: fall through
    }
    return stack;
}
