/**
 * Child process of test/chaosPorts.test.ts: prints, as JSON, every port table of the Postgres chaos scenarios as this
 * process's OCHAOS_PG_PORT_OFFSET makes them (the modules read it once, at import).
 */
import { PORTS } from "../chaos/patroniCluster";
import { RESTORE_PORTS } from "../chaos/pitrCluster";
import { STANDBY_PORTS } from "../chaos/regionPair";

process.stdout.write(JSON.stringify({ PORTS, RESTORE_PORTS, STANDBY_PORTS }) + "\n");
