import { defineCommand } from "citty";
import { PilotError, UsageError } from "../errors.js";
import { postgresUrl } from "../providers/database-url.js";
import { commonArgs } from "./shared-args.js";
import { buildContext } from "./context.js";
import { loadStack } from "./load-stack.js";

export default defineCommand({
  meta: { name: "server", description: "Connection details: --db, --ui, --token, or --ssh to open a shell (--ssh -- CMD runs one command)" },
  args: {
    ...commonArgs,
    db: { type: "boolean", description: "Print the database connection details (includes the password)" },
    ui: { type: "boolean", description: "Print the Waypoint UI address and how to log in" },
    token: { type: "boolean", description: "Print the Waypoint token" },
    ssh: { type: "boolean", description: "Open a shell on the server (host key pinned)" },
    url: { type: "boolean", description: "With --db: print only the postgres:// URL, password included (e.g. DATABASE_URL=$(pilot server --db --url))" },
  },
  async run({ args, rawArgs }) {
    const dashes = rawArgs.indexOf("--");
    const remoteCommand = dashes >= 0 ? rawArgs.slice(dashes + 1) : [];
    if (remoteCommand.length > 0 && !args.ssh) throw new UsageError("A command after -- needs --ssh.", "Run `pilot server --ssh -- CMD`.");
    if (args.url && !args.db) throw new UsageError("--url goes with --db.", "Run `pilot server --db --url`.");
    const chosen = (["db", "ui", "token", "ssh"] as const).filter((k) => args[k]);
    if (chosen.length !== 1) throw new UsageError("Choose exactly one of --db, --ui, --token or --ssh.");
    const ctx = buildContext("server", args);
    const { state, provider } = await loadStack(ctx);
    try {
      if (args.db) {
        const db = provider.databaseInfo(state);
        if (!db) throw new PilotError(`Stack "${ctx.stack}" has no database yet.`, { hint: "Run `pilot up-server` first." });
        const password = state.secrets[db.passwordSecret];
        if (!password) throw new PilotError(`Stack "${ctx.stack}" has no database password in its state.`, { hint: "Run `pilot up-server`; it generates one." });
        const url = postgresUrl(db, password);
        // Asked for explicitly: this is the one place the password is shown.
        if (args.url) writeRevealed(ctx.json, { url }, [url]);
        else writeRevealed(ctx.json, { ...db, password, url }, [`DATABASE_URL=${url}`]);
        return;
      }
      const access = provider.serverAccess(state);
      if (!access) throw new PilotError(`Stack "${ctx.stack}" has no server yet.`, { hint: "Run `pilot up-server` first." });
      const token = state.secrets.waypointToken;
      if (args.token) {
        if (!token) throw new PilotError("The server has not been bootstrapped, so there is no token yet.", { hint: "Run `pilot up-server` without --skip-bootstrap." });
        writeRevealed(ctx.json, { token }, [token]);
        return;
      }
      if (args.ui) {
        const { hostPorts } = await import("./bootstrap-stack.js");
        const url = `https://${access.publicAddress}:${hostPorts(access, state.settings, ctx.env).http}`;
        ctx.ui.result({ ok: true, url, caCertificate: `${ctx.stackDir}/tls/ca.pem` }, [
          `Waypoint UI: ${url}`,
          `Its certificate is signed by this stack's CA: ${ctx.stackDir}/tls/ca.pem (import it into your browser to trust it).`,
          "Log in with the token from `pilot server --token`.",
        ]);
        return;
      }
      const { openShell } = await import("./bootstrap-stack.js");
      process.exitCode = await openShell(ctx, access, state, remoteCommand);
    } finally {
      provider.close?.();
      ctx.ui.close();
    }
  },
});


/** Prints a document that deliberately contains a secret (bypasses redaction). */
function writeRevealed(json: boolean, data: Record<string, unknown>, human: string[]): void {
  process.stdout.write(json ? JSON.stringify({ ok: true, ...data }, null, 2) + "\n" : human.join("\n") + "\n");
}
