/**
 * Exemptions: one resource excused from one policy, each with a written reason. The pack applies them in
 * `withExemptions` (so `pulumi preview --policy-pack policies` and the offline runner agree), and every
 * exempted violation is still shown in the report with its reason; an exemption that matches nothing is
 * reported too, so stale ones get removed.
 */
import type { ReportViolation, ResourceValidation, ResourceValidationArgs, StackValidation, StackValidationArgs } from "@pulumi/policy";
import type { PackPolicy } from "./support";

export interface Exemption {
    /** The policy's name. */
    readonly policy: string;
    /** `type::name` of the resource, e.g. `docker:index/service:Service::ops-edge-traefik`. */
    readonly resource: string;
    /** Stacks it applies to; all when absent. */
    readonly stacks?: readonly string[];
    /** Why the rule does not apply to this resource (required, shown in every report). */
    readonly reason: string;
}

/** The pack's exemptions. Add one only with a reason a reviewer can check. */
export const EXEMPTIONS: readonly Exemption[] = [];

/** An exempted violation, as the reports show it. */
export interface ExemptViolation {
    readonly policy: string;
    readonly urn: string;
    readonly message: string;
    readonly reason: string;
}

/** `type::name` of a URN (urn:pulumi:<stack>::<project>::<parent$...$type>::<name>). */
export function resourceKey(urn: string): string {
    const parts = urn.split("::");
    return `${(parts[2] ?? "").split("$").pop()}::${parts.slice(3).join("::")}`;
}

/** The stack name of a URN. */
function stackOf(urn: string): string {
    return urn.split("::")[0].split(":").pop() ?? "";
}

/** The exemption covering `policy` on `urn`, if any. */
export function exemptionFor(exemptions: readonly Exemption[], policy: string, urn: string | undefined): Exemption | undefined {
    if (!urn) return undefined;
    const key = resourceKey(urn);
    return exemptions.find((e) => e.policy === policy && e.resource === key && (!e.stacks || e.stacks.includes(stackOf(urn))));
}

/**
 * Wraps each policy so that a violation on an exempted resource goes to `onExempt` instead of the report.
 * Reasons are mandatory: an exemption without one throws here, before any policy runs.
 */
export function withExemptions(policies: readonly PackPolicy[], exemptions: readonly Exemption[], onExempt: (v: ExemptViolation) => void): PackPolicy[] {
    for (const e of exemptions) {
        if (!e.reason || e.reason.trim().length < 10) throw new Error(`exemption of ${e.resource} from ${e.policy} needs a written reason`);
        if (!policies.some((p) => p.name === e.policy)) throw new Error(`exemption names policy ${e.policy}, which the pack does not have`);
    }
    const wrapReport = (policy: string, report: ReportViolation, defaultUrn?: string): ReportViolation => (message, urn) => {
        const target = urn ?? defaultUrn;
        const e = exemptionFor(exemptions, policy, target);
        if (e) {
            onExempt({ policy, urn: target!, message, reason: e.reason });
        } else report(message, urn);
    };
    return policies.map((p) => {
        if ("validateStack" in p) {
            const v = p.validateStack as StackValidation;
            return { ...p, validateStack: (args: StackValidationArgs, report: ReportViolation) => v(args, wrapReport(p.name, report)) };
        }
        const vs = ([] as ResourceValidation[]).concat(p.validateResource ?? []);
        return {
            ...p,
            validateResource: vs.map((v) => {
                const w = (args: ResourceValidationArgs, report: ReportViolation) => v(args, wrapReport(p.name, report, args.urn));
                return Object.assign(w, { __pulumiType: (v as { __pulumiType?: string }).__pulumiType });
            }),
        };
    });
}
