import type { ArgsDef } from "citty";

/** Flags every command takes. */
export const commonArgs = {
  name: { type: "string", description: "Stack name", default: "default", valueHint: "STACK" },
  json: { type: "boolean", description: "Print one JSON document on stdout (logs go to stderr)" },
  verbose: { type: "boolean", description: "Show stack traces and SDK detail on errors" },
} as const satisfies ArgsDef;

/** Flags of commands that change something. */
export const changeArgs = {
  yes: { type: "boolean", description: "Do not prompt for confirmation", alias: "y" },
  "dry-run": { type: "boolean", description: "Print the plan and change nothing" },
} as const satisfies ArgsDef;

/**
 * All values of a repeatable string flag (`--allow-cidr A --allow-cidr=B`);
 * citty keeps only the last one.
 */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i];
    if (arg === `--${name}` && i + 1 < rawArgs.length) values.push(rawArgs[++i]);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}
