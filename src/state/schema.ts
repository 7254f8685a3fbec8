/**
 * The state file's schema: the one source from which state/schema.json is
 * written (`npm run schema`) and against which every load is validated.
 */

export const STATE_VERSION = 1;

export type ProviderName = "aws" | "gcp" | "local";

/** One tracked resource. `creating` is the write-ahead record made before a create call. */
export interface ResourceState {
  type: string;
  status: "creating" | "created";
  /** Idempotency token, fixed for the node's lifetime. */
  token: string;
  startedAt?: string;
  id?: string;
  out?: Record<string, unknown>;
  /** Keys this resource depends on, so teardown can order deletes without the graph. */
  dependsOn: string[];
}

/** The server's SSH identity, pinned on first contact. */
export interface ServerState {
  /** "SHA256:..." fingerprint of the host key, pinned before or on first contact. */
  hostKeyFingerprint?: string;
  /** Where the pin came from: the cloud's own record of the key (GCE guest attributes), or the first connection. */
  hostKeySource?: "cloud" | "first-contact";
  /** When the last bootstrap finished. */
  bootstrappedAt?: string;
}

/** The whole state of one stack. */
export interface StackState {
  version: number;
  lineage: string;
  serial: number;
  provider: ProviderName;
  settings: Record<string, unknown>;
  resources: Record<string, ResourceState>;
  /** Database password, Waypoint token: file mode 0600, redacted in every output. */
  secrets: Record<string, string>;
  server: ServerState;
}

export const stateSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://pilot.dev/schemas/state.json",
  title: "Pilot stack state",
  type: "object",
  additionalProperties: false,
  required: ["version", "lineage", "serial", "provider", "settings", "resources", "secrets", "server"],
  properties: {
    version: { type: "integer", minimum: 1 },
    lineage: { type: "string", pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" },
    serial: { type: "integer", minimum: 0 },
    provider: { enum: ["aws", "gcp", "local"] },
    settings: { type: "object" },
    resources: {
      type: "object",
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["type", "status", "token", "dependsOn"],
        properties: {
          type: { type: "string", minLength: 1 },
          status: { enum: ["creating", "created"] },
          token: { type: "string", minLength: 1 },
          startedAt: { type: "string" },
          id: { type: "string", minLength: 1 },
          out: { type: "object" },
          dependsOn: { type: "array", items: { type: "string" } },
        },
        if: { properties: { status: { const: "created" } } },
        then: { required: ["id"] },
      },
    },
    secrets: { type: "object", additionalProperties: { type: "string" } },
    server: {
      type: "object",
      additionalProperties: false,
      properties: {
        hostKeyFingerprint: { type: "string", pattern: "^SHA256:" },
        hostKeySource: { enum: ["cloud", "first-contact"] },
        bootstrappedAt: { type: "string" },
      },
    },
  },
} as const;
