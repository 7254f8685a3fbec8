import { Secret } from "../secret.js";

/**
 * Deep-copies a value for output, replacing Secret instances and every
 * occurrence of a known secret string with "[redacted]". Applied to every
 * --json document and every log line, so a secret that leaks into an SDK
 * error message is still hidden.
 */
export function redactDeep(value: unknown, secrets: string[]): unknown {
  const known = secrets.filter((s) => s && s.length >= 4);
  const walk = (v: unknown): unknown => {
    if (v instanceof Secret) return "[redacted]";
    if (typeof v === "string") {
      let out = v;
      for (const s of known) out = out.split(s).join("[redacted]");
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  return walk(value);
}
