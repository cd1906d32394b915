import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ConfigSecrets } from "../config/load";
import { HaConfig } from "../config/types";

export interface RegionArgs {
    readonly cfg: HaConfig;
    readonly secrets: ConfigSecrets;
}

export class Region extends pulumi.ComponentResource {
    readonly pw: random.RandomPassword;
    constructor(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("opscenter:ha:Region", name, {}, opts);
        this.pw = new random.RandomPassword(`${name}-pw`, { length: 24 }, { parent: this });
        this.registerOutputs({});
    }
    stackOutputs(): Record<string, unknown> {
        return { role: this.pw.result };
    }
}
