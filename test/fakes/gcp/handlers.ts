/** The implemented methods of all ten APIs, by discovery method id. Anything else answers 501. */
import { artifactregistryHandlers } from "./artifactregistry.js";
import { computeHandlers } from "./compute/index.js";
import { crmHandlers } from "./crm.js";
import { iamHandlers } from "./iam.js";
import { runHandlers } from "./run.js";
import { secretmanagerHandlers } from "./secretmanager.js";
import { servicenetworkingHandlers } from "./servicenetworking.js";
import { serviceusageHandlers } from "./serviceusage.js";
import { sqlDatabaseUserHandlers } from "./sql/databases-users.js";
import { sqlInstanceHandlers } from "./sql/instances.js";
import { sqlOperationHandlers } from "./sql/operations.js";
import type { HandlerTable } from "./types.js";
import { vpcaccessHandlers } from "./vpcaccess.js";

export const HANDLERS: HandlerTable = {
  ...computeHandlers,
  ...sqlInstanceHandlers,
  ...sqlDatabaseUserHandlers,
  ...sqlOperationHandlers,
  ...servicenetworkingHandlers,
  ...vpcaccessHandlers,
  ...iamHandlers,
  ...crmHandlers,
  ...serviceusageHandlers,
  ...artifactregistryHandlers,
  ...runHandlers,
  ...secretmanagerHandlers,
};
