/**
 * Shared pieces of the CLI integration tests: the real `pilot` (dist/cli.js)
 * run against the moto server of the integration tier's global setup, with a
 * fresh PILOT_HOME per test, and checks against what moto really holds.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import { RDSClient } from "@aws-sdk/client-rds";
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject } from "vitest";
import type { StackState } from "../../../src/state/schema.js";
import { awsInventory, type Inventory } from "../../support/aws-inventory.js";
import { motoEnv, resetMoto } from "../../support/moto.js";
import { tempHome } from "../../support/temp-home.js";
import { useMoto } from "../aws/harness.js";
import { runCli, type CliResult } from "../../support/run-cli.js";

/** The flags every up-server of these tests uses (bootstrap is tested by the e2e tier). */
export const UP_FLAGS = ["--provider", "aws", "--region", "us-east-1", "--allow-cidr", "203.0.113.9/32", "--skip-bootstrap"];

/** What one whole AWS stack is, by kind (see test/support/aws-inventory.ts); the provider makes one route table. */
export const FULL_STACK: Record<string, number> = {
  vpc: 1,
  subnet: 4,
  igw: 1,
  routeTable: 1,
  securityGroup: 4,
  keyPair: 1,
  instance: 1,
  eip: 1,
  db: 1,
  dbSubnetGroup: 1,
  role: 1,
  instanceProfile: 1,
};

/** The stack's 18 node keys, each of which must end up "created" with an id. */
export const NODE_KEYS = [
  "vpc", "igw", "subnet-public", "subnet-public-b", "subnet-private-a", "subnet-private-b", "route-public", "sg-server", "sg-lb", "sg-apps", "sg-db",
  "key-pair", "role-server", "profile-server", "server", "eip", "db-subnet-group", "db",
];

/** One test's world: moto's URL, a PILOT_HOME, and the CLI run in it. */
export class Cli {
  constructor(readonly motoUrl: string, readonly home: string, readonly endpoint = motoUrl) {}

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...motoEnv(this.endpoint), PILOT_HOME: this.home, ...extra };
  }

  /**
   * Every database password any stack of this test has had, noted before and
   * after each run: a teardown deletes the state file, and a test may damage
   * it, so what is on disk after a run cannot be the only source.
   */
  readonly secrets = new Set<string>();

  /** Runs `pilot ARGS`; every output is checked for every database password known before or after it. */
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

  stateFile(stack: string): string {
    return join(this.home, "stacks", stack, "state.json");
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
      /* mid-rename, or a test's deliberately damaged file: the passwords noted earlier still apply */
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

/** Everything moto holds for a stack: EC2/RDS by the pilot:stack tag, IAM and subnet groups by name prefix. */
export function inventory(stack: string): Promise<Inventory> {
  return awsInventory({ tag: { key: "pilot:stack", value: stack }, namePrefix: `pilot-${stack}-` });
}

/** Counts by kind, for comparing with FULL_STACK. */
export function counts(inv: Inventory): Record<string, number> {
  return Object.fromEntries(Object.entries(inv).map(([k, ids]) => [k, ids.length]));
}

/** Exactly one whole stack in moto, and state naming exactly those resources. */
export async function expectOneStack(cli: Cli, stack: string): Promise<Inventory> {
  const inv = await inventory(stack);
  expect(counts(inv)).toEqual(FULL_STACK);
  const state = cli.state(stack);
  expect(Object.keys(state.resources).sort()).toEqual([...NODE_KEYS].sort());
  for (const [key, r] of Object.entries(state.resources)) {
    expect(r.status, key).toBe("created");
    expect(r.id, key).toBeTruthy();
  }
  const r = state.resources;
  expect(inv.vpc).toEqual([r.vpc.id]);
  expect(inv.instance).toEqual([r.server.id]);
  expect(inv.eip).toEqual([r.eip.id]);
  expect(inv.db).toEqual([r.db.id]);
  expect(inv.igw).toEqual([r.igw.id]);
  expect(inv.routeTable).toEqual([r["route-public"].id]);
  expect([...inv.subnet].sort()).toEqual([r["subnet-public"].id, r["subnet-public-b"].id, r["subnet-private-a"].id, r["subnet-private-b"].id].sort());
  expect([...inv.securityGroup].sort()).toEqual([r["sg-server"].id, r["sg-lb"].id, r["sg-apps"].id, r["sg-db"].id].sort());
  return inv;
}

/** Nothing of the stack is left in moto. */
export async function expectNothingLeft(stack: string): Promise<void> {
  const inv = await inventory(stack);
  expect(Object.fromEntries(Object.entries(inv).filter(([, ids]) => ids.length > 0))).toEqual({});
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

/**
 * The setup every CLI test file shares: moto's endpoint and dummy credentials
 * in this process (for the inventory's SDK clients), a clean moto once per
 * file, and a fresh PILOT_HOME with its Cli for each test.
 */
export function useCliHarness(prefix: string): { readonly cli: Cli; readonly home: string; readonly url: string } {
  const url = inject("motoEndpoint");
  let restoreEnv: () => void;
  let t: ReturnType<typeof tempHome>;
  let cli: Cli;
  beforeAll(async () => {
    restoreEnv = useMoto(url);
    await resetMoto(url);
  });
  afterAll(() => restoreEnv());
  beforeEach(() => {
    t = tempHome(prefix);
    cli = new Cli(url, t.home);
  });
  afterEach(() => t.cleanup());
  return {
    get cli() {
      return cli;
    },
    get home() {
      return t.home;
    },
    url,
  };
}

/** Runs `fn` with a client of the tests' region (pointed at moto by useCliHarness), then closes it. */
async function withClient<C extends { destroy(): void }, T>(client: C, fn: (c: C) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

export const withEc2 = <T>(fn: (ec2: EC2Client) => Promise<T>) => withClient(new EC2Client({ region: "us-east-1" }), fn);
export const withRds = <T>(fn: (rds: RDSClient) => Promise<T>) => withClient(new RDSClient({ region: "us-east-1" }), fn);
