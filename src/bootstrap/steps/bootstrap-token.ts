import type { StepContext } from "./context.js";
import { waypointScript, waypointWithToken } from "./waypoint-cli.js";
import type { Step } from "../types.js";

/** Where the server keeps a copy of its first token: its own data volume, readable by its user only. */
export const TOKEN_FILE = "/data/pilot-bootstrap-token";

/**
 * Prints the server's first token, bootstrapping only if it has none yet.
 * The token is written to TOKEN_FILE (umask 077, via a temp file and mv)
 * before it is printed, so a Pilot killed between the server handing it out
 * and the state write finds it again on the next run instead of facing a
 * server that will never bootstrap twice. The file lives beside the
 * server's database, so resetting the server's data resets both.
 */
export const KEEP_TOKEN_SCRIPT =
  'f=' + TOKEN_FILE + '; if [ -s "$f" ]; then cat "$f"; exit 0; fi; ' +
  'umask 077; waypoint "$@" > "$f.tmp" && mv "$f.tmp" "$f" && cat "$f"';

/**
 * The server's first auth token. A server hands it out exactly once
 * (`waypoint server bootstrap`), so apply keeps a copy on the server (see
 * KEEP_TOKEN_SCRIPT) and the orchestrator saves it to state the moment apply
 * prints it. With a known token the check proves it still works; with none
 * there is nothing to check and apply must run.
 */
export function takeBootstrapToken(ctx: StepContext, token: string | undefined): Step {
  return {
    name: "bootstrap-token",
    description: "bootstrap the server and save its first auth token",
    check: token === undefined ? [] : [waypointWithToken(ctx, token, ["user", "inspect"])],
    // -context-create= (empty): no CLI context in the server container. By default the command
    // writes one (holding the token) and, if that write fails, exits 1 after printing the token.
    apply: [waypointScript(ctx, KEEP_TOKEN_SCRIPT, ["server", "bootstrap", "-context-create="])],
    // The check was built with the old token; the orchestrator checks the new one by using it.
    recheck: false,
  };
}

/** The token is the last non-empty line `waypoint server bootstrap` prints. */
export function parseBootstrapToken(stdout: string): string | undefined {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const last = lines[lines.length - 1];
  return last && !/\s/.test(last) ? last : undefined;
}
