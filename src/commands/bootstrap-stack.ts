/** Wiring between up-server/status/server and src/bootstrap: filled in with the SSH bootstrap. */
import { PilotError } from "../errors.js";
import type { Provider, ServerAccess } from "../providers/types.js";
import type { StackState } from "../state/schema.js";
import type { CommandContext } from "./context.js";

export async function bootstrapStack(_ctx: CommandContext, _p: Provider<any>, _s: Record<string, unknown>, _o: { acceptNewHostKey?: boolean }): Promise<string[]> {
  throw new PilotError("Server bootstrap is not available yet.", { hint: "Run with --skip-bootstrap." });
}
export async function serverHealthFor(_ctx: CommandContext, _p: Provider<any>, _state: StackState): Promise<{ ok: boolean; lines: string[] } | undefined> {
  return undefined;
}
export async function openShell(_ctx: CommandContext, _a: ServerAccess, _state: StackState): Promise<number> {
  throw new PilotError("pilot server --ssh is not available yet.");
}
