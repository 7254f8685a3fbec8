import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../errors.js";

/** `$PILOT_HOME`, default `~/.pilot`: every local file Pilot writes lives below it. */
export function pilotHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.PILOT_HOME && env.PILOT_HOME.length > 0 ? env.PILOT_HOME : join(homedir(), ".pilot");
}

const STACK_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** Stack names become resource names and tags on every cloud: keep them short and plain. */
export function checkStackName(name: string): string {
  if (!STACK_NAME.test(name) || name.endsWith("-")) {
    throw new UsageError(
      `Invalid stack name "${name}".`,
      "Use 1-20 lowercase letters, digits or hyphens, starting with a letter (e.g. --name staging).",
    );
  }
  return name;
}

/** The folder of one stack: state, lock, keys, CA. */
export function stackDir(home: string, stack: string): string {
  return join(home, "stacks", stack);
}
