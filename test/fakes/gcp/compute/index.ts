/** Every compute method the fake implements. (The dispatcher adds requestId handling, see operations.ts.) */
import type { HandlerTable } from "../types.js";
import { addressHandlers } from "./addresses.js";
import { firewallHandlers } from "./firewalls.js";
import { geoHandlers } from "./geo.js";
import { imageHandlers } from "./images.js";
import { instanceHandlers } from "./instances.js";
import { networkHandlers } from "./networks.js";
import { operationHandlers } from "./operations.js";
import { subnetworkHandlers } from "./subnetworks.js";

export const computeHandlers: HandlerTable = {
  ...networkHandlers,
  ...subnetworkHandlers,
  ...firewallHandlers,
  ...addressHandlers,
  ...instanceHandlers,
  ...imageHandlers,
  ...geoHandlers,
  ...operationHandlers,
};
