/**
 * Drops the AWS SDK's Node-version support notice and nothing else. The SDK
 * emits it as a plain Warning whose text starts with its type name,
 * "NodeVersionSupportWarning:", so the filter matches that type (as a type or
 * as the message prefix) and passes every other warning through untouched.
 */
const FILTERED_TYPES = new Set(["NodeVersionSupportWarning"]);

function warningType(warning: string | Error, typeOrOptions: unknown): string | undefined {
  if (typeof typeOrOptions === "string") return typeOrOptions;
  if (typeOrOptions && typeof typeOrOptions === "object" && "type" in typeOrOptions) return String((typeOrOptions as { type: unknown }).type);
  if (warning instanceof Error && warning.name !== "Warning") return warning.name;
  const text = typeof warning === "string" ? warning : warning.message;
  return /^(\w+Warning):/.exec(text)?.[1];
}

/** Installs the filter once per process; returns a function that removes it (for tests). */
export function filterSdkWarnings(): () => void {
  const original = process.emitWarning;
  const filtered = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type = warningType(warning, rest[0]);
    const text = typeof warning === "string" ? warning : warning.message;
    if ((type && FILTERED_TYPES.has(type)) || [...FILTERED_TYPES].some((t) => text.startsWith(`${t}:`))) return;
    return (original as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  process.emitWarning = filtered;
  return () => {
    process.emitWarning = original;
  };
}
