/**
 * Shared pieces of the GCP CLI integration tests: the real `pilot`
 * (dist/cli.js; `npm run -s build` first) against the schema-checked GCP fake
 * (test/fakes/gcp), one fake per test file, reset before every test, a fresh
 * PILOT_HOME per test, and checks against what the fake really holds.
 *
 * Every CLI output is checked for every database password the test has seen:
 * the password is read from the state file before a command (a teardown
 * deletes the file) and after it (a first run writes it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import type { StackState } from "../../../src/state/schema.js";
import { startFakeGcp, type FakeGcp, type InventoryItem, type LoggedRequest } from "../../fakes/gcp/index.js";
import { runCli, type CliResult } from "../../support/run-cli.js";
import { tempHome } from "../../support/temp-home.js";

export const PROJECT = "pilot-test";
export const REGION = "europe-west1";
export const ZONE = "europe-west1-b";
export const ALLOWED = "203.0.113.9/32";

/** Where every stack of these tests lives (bootstrap is the e2e tier's business). */
export const WHERE = ["--provider", "gcp", "--project", PROJECT, "--region", REGION];
export const UP_FLAGS = [...WHERE, "--allow-cidr", ALLOWED, "--skip-bootstrap"];
/** What `pilot teardown --orphans` needs when the stack has no state file. */
export const ORPHAN_WHERE = ["--provider", "gcp", "--region", REGION, "--project", PROJECT];

/** The three APIs a new project has off (the fake starts with them disabled, as Google does). */
export const OFF_AT_START = ["artifactregistry.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com"];

/** The stack's 14 node keys, each of which must end up "created" with an id. */
export const NODE_KEYS = [
  "network", "subnet", "fw-server", "address-server", "db-range", "db-peering", "db", "db-database", "db-user",
  "connector", "sa-server", "roles-server", "sa-apps", "server",
];

/**
 * One whole stack in the fake, by `api.collection` (see stackInventory). The
 * boot disk comes with the VM; Cloud SQL makes its own `postgres` database and
 * user beside Pilot's `pilot` ones; "iam.projectRoles" counts the project
 * policy's bindings that name the stack's service account.
 */
export const FULL_STACK: Record<string, number> = {
  "compute.networks": 1,
  "compute.subnetworks": 1,
  "compute.firewalls": 1,
  "compute.addresses": 1,
  "compute.globalAddresses": 1,
  "compute.instances": 1,
  "compute.disks": 1,
  "sqladmin.instances": 1,
  "sqladmin.databases": 2,
  "sqladmin.users": 2,
  "servicenetworking.connections": 1,
  "vpcaccess.connectors": 1,
  "iam.serviceAccounts": 2,
  "iam.projectRoles": 4,
};

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const last = (s: string | undefined) => String(s ?? "").split("/").pop() ?? "";

/** The stack named in an ownership note ("... pilot-stack=S pilot-stack-id=... pilot-key=..."). */
function noteStack(description: string | undefined): string | undefined {
  return /\bpilot-stack=([a-z0-9_-]+)/.exec(description ?? "")?.[1];
}

/** One resource of the stack, as the fake lists it (policy bindings get a synthetic item). */
export type StackItem = Pick<InventoryItem, "api" | "collection" | "name"> & Partial<InventoryItem>;

/**
 * Everything in the fake that belongs to `stack`, found the way an auditor
 * would, whatever the lineage: by the pilot-stack label (addresses, VM, Cloud
 * SQL), by the ownership note in the description (network, subnetwork,
 * firewall, service account), and by the derived names where there is neither
 * (boot disk, connector, Service Networking connection, Cloud SQL's databases
 * and users), plus the project IAM bindings of the stack's service accounts.
 * Read from the fake's memory: nothing here shows in its request log.
 */
export function stackInventory(gcp: FakeGcp, stack: string): StackItem[] {
  const named = new RegExp(`^pilot-${esc(stack)}-[0-9a-f]{8}(-|$)`);
  const connector = new RegExp(`^pilot-${esc(stack.slice(0, 10))}-[0-9a-f]{8}$`);
  // The server's account, and the apps' (which holds no project role).
  const account = new RegExp(`^(pilot-${esc(stack.slice(0, 15))}-[0-9a-f]{8}|pilot-${esc(stack.slice(0, 10))}-[0-9a-f]{8}-run)@`);
  const out: StackItem[] = gcp.control.inventory().filter((i) => {
    if (i.labels["pilot-stack"] === stack || noteStack(i.description) === stack) return true;
    switch (`${i.api}.${i.collection}`) {
      case "sqladmin.databases":
      case "sqladmin.users":
        return named.test(i.name.split("/")[0]!);
      case "servicenetworking.connections":
        return named.test(last(i.id));
      case "vpcaccess.connectors":
        return connector.test(i.name);
      case "iam.serviceAccounts":
        return account.test(i.name);
      default:
        return named.test(i.name);
    }
  });
  const policy = gcp.control.world.crm.policies.get(gcp.project);
  for (const b of policy?.bindings ?? []) {
    for (const m of (b.members ?? []) as string[]) {
      if (account.test(m.replace(/^serviceAccount:/, ""))) out.push({ api: "iam", collection: "projectRoles", name: `${b.role} ${m}` });
    }
  }
  return out;
}

/** Counts by `api.collection`, for comparing with FULL_STACK. */
export function counts(items: StackItem[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const i of items) c[`${i.api}.${i.collection}`] = (c[`${i.api}.${i.collection}`] ?? 0) + 1;
  return c;
}

/** Names by `api.collection` (a readable failure message). */
export function names(items: StackItem[]): Record<string, string[]> {
  const c: Record<string, string[]> = {};
  for (const i of items) (c[`${i.api}.${i.collection}`] ??= []).push(i.name);
  for (const v of Object.values(c)) v.sort();
  return c;
}

/** Nothing labelled or named for the stack is left in the fake. */
export function expectNothingLeft(gcp: FakeGcp, stack: string): void {
  expect(names(stackInventory(gcp, stack)), `left in the fake for stack ${stack}`).toEqual({});
}

/** Method ids that only read (Google's getIamPolicy and batchGet are POSTs or GETs that change nothing). */
export function isRead(r: Pick<LoggedRequest, "methodId" | "httpMethod">): boolean {
  const m = r.methodId ?? "";
  return r.httpMethod === "GET" || /\.(get|list|aggregatedList|getIamPolicy|batchGet|getFromFamily|getGuestAttributes|wait)$/.test(m);
}

/** "method status" → count, for assertion messages. */
export function perMethod(reqs: LoggedRequest[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of reqs) {
    const k = `${r.methodId ?? `${r.httpMethod} ${r.path}`} ${r.status}`;
    c[k] = (c[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)));
}

/** Every error is one or two short lines: no stack trace without --verbose. */
export function expectShortError(stderr: string): void {
  const lines = stderr.trim().split("\n").filter((l) => !/^Acting as /.test(l));
  expect(lines.length, stderr).toBeLessThanOrEqual(2);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** Polls until `check` is true (every 5 ms), or throws after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 30_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The state file's serial, or -1 while it is missing or mid-rename. */
export function serialOf(file: string): number {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as StackState).serial;
  } catch {
    return -1;
  }
}

/** One test's world: the fake's URL, a PILOT_HOME, and the CLI run in it. */
export class GcpCli {
  constructor(
    readonly url: string,
    readonly home: string,
    /** Every database password this test has seen; no output may contain any of them. */
    readonly secrets = new Set<string>(),
  ) {}

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      PILOT_GCP_ENDPOINT: this.url,
      PILOT_HOME: this.home,
      // Hermetic: nothing from the machine's gcloud set-up may pick the project, region or an endpoint.
      GOOGLE_APPLICATION_CREDENTIALS: undefined,
      GOOGLE_CLOUD_PROJECT: undefined,
      CLOUDSDK_CORE_PROJECT: undefined,
      CLOUDSDK_COMPUTE_REGION: undefined,
      CLOUDSDK_COMPUTE_ZONE: undefined,
      ...Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith("CLOUDSDK_API_ENDPOINT_OVERRIDES_")).map((k) => [k, undefined])),
      ...extra,
    };
  }

  /** Runs `pilot ARGS`; every output is checked for the database passwords first. */
  async run(args: string[], extra: NodeJS.ProcessEnv = {}, opts: Parameters<typeof runCli>[2] = {}): Promise<CliResult> {
    const stack = this.stackOf(args);
    this.remember(stack);
    const r = await runCli(args, this.env(extra), opts);
    this.remember(stack);
    this.expectNoSecret(r, args);
    // Many tests assert only the exit code: keep what a failed run said next to the failure.
    if (r.code !== 0 && r.code !== null) console.error(`pilot ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.json ? "" : r.stdout}`);
    return r;
  }

  up(stack: string, more: string[] = [], opts: Parameters<typeof runCli>[2] = {}): Promise<CliResult> {
    return this.run(["up-server", "--name", stack, ...UP_FLAGS, ...more], {}, opts);
  }

  teardown(stack: string, more: string[] = ["--skip-final-snapshot"]): Promise<CliResult> {
    return this.run(["teardown", "--name", stack, "--yes", ...more]);
  }

  stackDir(stack: string): string {
    return join(this.home, "stacks", stack);
  }

  stateFile(stack: string): string {
    return join(this.stackDir(stack), "state.json");
  }

  state(stack: string): StackState {
    return JSON.parse(readFileSync(this.stateFile(stack), "utf8")) as StackState;
  }

  writeState(stack: string, state: StackState): void {
    writeFileSync(this.stateFile(stack), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  }

  /** Node key → id, as recorded. */
  ids(stack: string): Record<string, string | undefined> {
    return Object.fromEntries(Object.entries(this.state(stack).resources).map(([k, r]) => [k, r.id]));
  }

  private stackOf(args: string[]): string {
    const at = args.indexOf("--name");
    return at >= 0 ? args[at + 1]! : "default";
  }

  /** Notes the stack's password, if its state file has one now. */
  remember(stack: string): void {
    const file = this.stateFile(stack);
    try {
      const password = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as StackState).secrets?.dbPassword : undefined;
      if (password) this.secrets.add(password);
    } catch {
      /* mid-rename, or a test's deliberately damaged file */
    }
  }

  /** No password may reach a terminal or a JSON document. */
  expectNoSecret(r: CliResult, args: string[]): void {
    for (const password of this.secrets) {
      expect(r.stdout.includes(password), `pilot ${args.join(" ")} printed a database password`).toBe(false);
      expect(r.stderr.includes(password), `pilot ${args.join(" ")} logged a database password`).toBe(false);
    }
  }
}

/**
 * Exactly one whole stack in the fake, state naming exactly those resources,
 * every node "created" with an id. Returns the stack's items.
 */
export function expectOneStack(gcp: FakeGcp, cli: GcpCli, stack: string): StackItem[] {
  const items = stackInventory(gcp, stack);
  expect(counts(items), JSON.stringify(names(items), null, 1)).toEqual(FULL_STACK);
  const state = cli.state(stack);
  expect(Object.keys(state.resources).sort()).toEqual([...NODE_KEYS].sort());
  for (const [key, r] of Object.entries(state.resources)) {
    expect(r.status, key).toBe("created");
    expect(r.id, key).toBeTruthy();
  }
  const r = state.resources;
  const of = (collection: string) => names(items)[collection] ?? [];
  expect(of("compute.networks")).toEqual([r.network.id]);
  expect(of("compute.subnetworks")).toEqual([r.subnet.id]);
  expect(of("compute.firewalls")).toEqual([r["fw-server"].id]);
  expect(of("compute.addresses")).toEqual([r["address-server"].id]);
  expect(of("compute.globalAddresses")).toEqual([r["db-range"].id]);
  expect(of("compute.instances")).toEqual([r.server.id]);
  expect(of("compute.disks")).toEqual([r.server.id]); // the boot disk takes the VM's name
  expect(of("sqladmin.instances")).toEqual([r.db.id]);
  expect(of("sqladmin.databases")).toEqual([r["db-database"].id, `${r.db.id}/postgres`].sort());
  expect(of("sqladmin.users").map((u) => u.replace(/@.*$/, ""))).toEqual([r["db-user"].id, `${r.db.id}/postgres`].sort());
  expect(items.find((i) => i.collection === "connections")?.id).toBe(`projects/${gcp.projectNumber}/global/networks/${r["db-peering"].id}`);
  expect(items.filter((i) => i.collection === "connectors").map((i) => i.selfLink)).toEqual([r.connector.id]);
  expect(of("iam.serviceAccounts")).toEqual([r["sa-apps"].id, r["sa-server"].id].sort());
  expect(new Set(of("iam.projectRoles").map((b) => b.split(" ")[1]))).toEqual(new Set([r["roles-server"].id]));
  return items;
}

/** Google's Compute client pointed at the fake: what an operator's out-of-band change goes through. */
export function computeClient(gcp: FakeGcp): compute_v1.Compute {
  return new compute_v1.Compute({ rootUrl: `${gcp.url}/` });
}

/** Waits for a Compute operation the way gcloud does (…Operations.wait), and fails on its error. */
export async function waitOp(compute: compute_v1.Compute, op: compute_v1.Schema$Operation): Promise<void> {
  const project = PROJECT;
  const operation = op.name!;
  let done: compute_v1.Schema$Operation = op;
  // Google documents that wait may return before the operation is DONE (it gives up after two minutes): ask again.
  for (let i = 0; i < 10 && done.status !== "DONE"; i++) {
    if (op.zone) done = (await compute.zoneOperations.wait({ project, zone: last(op.zone), operation })).data;
    else if (op.region) done = (await compute.regionOperations.wait({ project, region: last(op.region), operation })).data;
    else done = (await compute.globalOperations.wait({ project, operation })).data;
  }
  expect(done.status).toBe("DONE");
  expect(done.error?.errors ?? []).toEqual([]);
}

export interface GcpHarness {
  readonly gcp: FakeGcp;
  readonly cli: GcpCli;
  readonly home: string;
  /**
   * Operations finish at once from now on: for the runs that only set a test up
   * (the CLI's pollers first wait 250 ms, which every step of a run would cost).
   */
  quick(): void;
  /** Operations take the fake's start-up latency again, so the run under test sees them RUNNING, then DONE. */
  realistic(): void;
}

/**
 * The setup every GCP CLI test file shares: one fake for the file, reset
 * before each test (with the two APIs a new project has off turned on, unless
 * `apisOff`), and a fresh PILOT_HOME with its GcpCli for each test.
 */
export function useGcpHarness(prefix: string, opts: { latencyMs?: number } = {}): GcpHarness {
  let gcp: FakeGcp;
  let t: ReturnType<typeof tempHome>;
  let cli: GcpCli;
  let startupLatencyMs: number;
  beforeAll(async () => {
    gcp = await startFakeGcp({ project: PROJECT, ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}) });
    startupLatencyMs = gcp.control.latency().defaultMs;
  });
  afterAll(async () => {
    await gcp?.close();
  });
  beforeEach(() => {
    gcp.control.reset();
    for (const s of OFF_AT_START) gcp.control.enableApi(s);
    gcp.control.clearRequests();
    t = tempHome(prefix);
    cli = new GcpCli(gcp.url, t.home);
  });
  afterEach(() => t.cleanup());
  return {
    get gcp() {
      return gcp;
    },
    get cli() {
      return cli;
    },
    get home() {
      return t.home;
    },
    quick() {
      gcp.control.setLatency({ defaultMs: 0 });
    },
    realistic() {
      gcp.control.setLatency({ defaultMs: startupLatencyMs });
    },
  };
}
