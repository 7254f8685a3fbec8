import { randomBytes } from "node:crypto";

/**
 * An idempotency token for one create, kept in the write-ahead record so a
 * retried create after a crash sends the same one. Short and ASCII: EC2's
 * ClientToken allows 64 characters, GCP's requestId wants a UUID-like value.
 */
export function newToken(key: string): string {
  const slug = key.replace(/[^a-z0-9-]/gi, "").slice(0, 24);
  return `pilot-${slug}-${randomBytes(8).toString("hex")}`;
}
