/**
 * `pilot new <what>`: scaffolding on the stack's Waypoint server. Each
 * subcommand is its own module, imported only when it runs.
 */
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "new", description: "Register a project or generate an app's waypoint.hcl" },
  subCommands: {
    project: () => import("./new-project.js").then((m) => m.default),
    app: () => import("./new-app.js").then((m) => m.default),
  },
});
