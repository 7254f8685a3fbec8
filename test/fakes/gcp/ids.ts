/**
 * Identifiers and small derived values Google hands out: numeric ids
 * (uint64 as decimal strings), project numbers (stable per project id, so a
 * test can predict `projects/<NUMBER>/...`), operation names, fingerprints.
 */
import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";

/** A 19-digit uint64, as compute and IAM print ids. */
export function numericId(digits = 19): string {
  let s = String(randomInt(1, 10));
  while (s.length < digits) s += String(randomInt(0, 10));
  return s;
}

/** Twelve digits derived from the project id, the same in every run. */
export function projectNumberOf(projectId: string): string {
  const hex = createHash("sha256").update(`gcp-fake-project:${projectId}`).digest("hex");
  const n = BigInt(`0x${hex.slice(0, 15)}`) % 900_000_000_000n;
  return String(100_000_000_000n + n);
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** compute's operation names: `operation-<ms>-<hex>-<hex>-<hex>`. */
export function computeOperationName(now: number): string {
  return `operation-${now}-${hex(7).slice(0, 13)}-${hex(4)}-${hex(4)}`;
}

export function uuid(): string {
  return randomUUID();
}

/** compute's fingerprints: 8 bytes, base64, derived from the content (so equal content, equal fingerprint). */
export function fingerprintOf(value: unknown): string {
  if (value === undefined || (value && typeof value === "object" && Object.keys(value).length === 0)) {
    return "42WmSpB8rSM="; // what compute returns for an empty label set
  }
  return createHash("sha256").update(stableJson(value)).digest().subarray(0, 8).toString("base64");
}

/** JSON with object keys sorted, for content hashes. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** An RFC 3339 timestamp. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** An IAM-style etag (base64 of random bytes). */
export function etag(): string {
  return randomBytes(8).toString("base64");
}
