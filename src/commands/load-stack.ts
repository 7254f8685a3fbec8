import { PilotError } from "../errors.js";
import type { Provider } from "../providers/types.js";
import type { StackState } from "../state/schema.js";
import type { CommandContext } from "./context.js";

/** Loads an existing stack's state and its provider, or says there is none. */
export async function loadStack(ctx: CommandContext): Promise<{ state: StackState; provider: Provider<any> }> {
  const state = ctx.store.load();
  if (!state) {
    throw new PilotError(`Stack "${ctx.stack}" does not exist (no state in ${ctx.stackDir}).`, {
      hint: "Create it with `pilot up-server --provider aws|gcp|local`, or pass --name for another stack.",
    });
  }
  ctx.ui.addSecrets(Object.values(state.secrets));
  const { loadProvider } = await import("../providers/index.js");
  const provider = await loadProvider(state.provider, {
    stack: ctx.stack,
    stackDir: ctx.stackDir,
    env: ctx.env,
    emit: ctx.ui.emit.bind(ctx.ui),
  });
  return { state, provider };
}
