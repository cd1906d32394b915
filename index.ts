// Entry point for the Pulumi CLI (`pulumi up` per region stack). See program.ts.
import { main } from "./program";

export = main;
