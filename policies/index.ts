/**
 * The CrossGuard policy pack: `pulumi preview --policy-pack policies` runs it for real. `new PolicyPack`
 * starts the pack's gRPC server, so it is built here and nowhere else (the policies are plain modules).
 */
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES, PACK_NAME } from "./all";
import { EXEMPTIONS, withExemptions } from "./exemptions";

new PolicyPack(PACK_NAME, {
    description: "ops-center-ha: AWS hygiene, Swarm service rules and the HA claims of the design, per region stack.",
    enforcementLevel: "mandatory",
    // An exempted violation is not reported to the engine; it is logged with its reason (and the offline
    // runner, `npm run policy`, lists it in its report).
    policies: withExemptions(ALL_POLICIES, EXEMPTIONS, (v) => console.error(`exempt: ${v.policy} on ${v.urn}: ${v.reason} (${v.message})`)),
});
