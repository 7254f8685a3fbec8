import type { RegistryAuth } from "../bootstrap/steps/registry-credentials.js";
import type { EmitFn, ResourceKind, StackNode, TaggedResource } from "../engine/types.js";
import type { StateStore } from "../state/store.js";
import type { ProviderName, StackState } from "../state/schema.js";

/** What every provider gets: where the stack lives, the environment, a logger. */
export interface ProviderContext {
  stack: string;
  /** `$PILOT_HOME/stacks/<name>`: keys, CA material, state. */
  stackDir: string;
  env: NodeJS.ProcessEnv;
  emit: EmitFn;
}

/** Where and how to reach the server over SSH once the stack exists. */
export interface ServerAccess {
  /** "local": the server runs on this machine's Docker engine, no SSH. Absent means SSH. */
  via?: "ssh" | "local";
  host: string;
  port: number;
  user: string;
  /** Path of the private key (ed25519, 0600) Pilot generated for this stack. */
  privateKeyPath: string;
  /** The address clients use for Waypoint (9701) and its UI (9702); may differ from the SSH host in tests. */
  publicAddress: string;
}

/** Connection details for the stack's PostgreSQL (password redacted unless asked). */
export interface DatabaseInfo {
  host: string;
  port: number;
  user: string;
  database: string;
  passwordSecret: string;
  /** The server refuses unencrypted connections (Cloud SQL with TLS required): the URL asks for TLS. */
  requireTls?: boolean;
}


export type { TaggedResource };

/** Raw command-line flags passed to a provider, already checked for unknown names. */
export type ProviderFlags = Record<string, unknown> & { allowCidr?: string[] };

/**
 * A cloud (or the local Docker engine) as Pilot sees it. The engine knows only
 * StackNodes and ResourceKinds; everything cloud-specific sits behind this.
 */
export interface Provider<Settings extends Record<string, unknown> = Record<string, unknown>> {
  name: ProviderName;
  /** Validates flags, merged over stored settings; throws UsageError on bad input. No resource is touched. */
  resolveSettings(flags: ProviderFlags, stored: Settings | undefined): Promise<Settings>;
  /**
   * Checks what the stack needs of this machine before anything is locked or
   * created (the local provider: its host ports, its container names); throws
   * a PilotError that names the conflict. `state` is undefined for a new stack. Optional.
   */
  preflight?(settings: Settings, state: StackState | undefined): Promise<void>;
  /** Proves the credentials work before anything is created; returns who we are acting as. */
  checkCredentials(settings: Settings): Promise<string>;
  /** Makes local prerequisites (SSH key, generated passwords) idempotently and records secrets in state. */
  prepare(settings: Settings, store: StateStore): Promise<void>;
  /** The stack's resource graph. */
  graph(settings: Settings, state: StackState): StackNode[];
  /** Every kind this provider can create, by type, so teardown works from state alone. */
  kinds(settings: Settings): Record<string, ResourceKind>;
  /** How to reach the server; undefined until it exists. */
  serverAccess(state: StackState): ServerAccess | undefined;
  /**
   * The server's SSH host key as the cloud publishes it ("ssh-ed25519 AAAA…",
   * or only its fingerprint "SHA256:…" where the cloud gives no more),
   * read before the first connection so the key is pinned without trusting
   * the network; undefined when the cloud has none to give (first-contact
   * pinning is then the fallback, and the bootstrap says so). Optional.
   */
  publishedHostKey?(state: StackState, progress: (message: string) => void): Promise<string | undefined>;
  /** The database's connection details; undefined until it exists. */
  databaseInfo(state: StackState): DatabaseInfo | undefined;
  /**
   * Image registries the server's runner pushes app images to with the VM's
   * own cloud identity, through the credential helper bootstrap gives it
   * (GCP: the region's Artifact Registry host). Optional: none.
   */
  runnerRegistryAuth?(settings: Settings): RegistryAuth | undefined;
  /** Errors worth retrying while deleting (dependency still attached, resource busy). */
  isRetryableDelete(err: unknown): boolean;
  /**
   * Everything that carries this stack's name tag, whatever its lineage, in
   * the settings' region: what `pilot teardown --orphans` compares with state
   * (undefined when the state file is lost). Read-only. Optional: a provider
   * without it does not support --orphans.
   */
  findTagged?(settings: Settings, state: StackState | undefined): Promise<TaggedResource[]>;
  /** Frees SDK clients (sockets) so the process can exit. */
  close?(): void;
}

/** Loads a provider module lazily so `pilot --help` imports no cloud SDK. */
export type ProviderFactory = (ctx: ProviderContext) => Provider<any>;
