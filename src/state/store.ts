import { randomUUID } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { PilotError } from "../errors.js";
import { acquireLock, type Lock } from "./lock.js";
import { migrate } from "./migrations.js";
import { stackDir } from "./paths.js";
import { STATE_VERSION, stateSchema, type ProviderName, type StackState } from "./schema.js";

let validator: ((data: unknown) => boolean) & { errors?: unknown } | undefined;
function validate(data: unknown): string | undefined {
  if (!validator) {
    // Loaded on first use so commands that never read state (and --help) skip it.
    const { Ajv } = createRequire(import.meta.url)("ajv") as typeof import("ajv");
    validator = new Ajv({ allErrors: true }).compile(stateSchema);
  }
  if (validator(data)) return undefined;
  const errors = (validator.errors ?? []) as { instancePath: string; message?: string }[];
  return errors
    .slice(0, 3)
    .map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`)
    .join("; ");
}

/** Checks a parsed state document against the schema; returns the first problems or undefined. */
export function validateState(data: unknown): string | undefined {
  return validate(data);
}


/**
 * One stack's state file, `$PILOT_HOME/stacks/<name>/state.json`.
 * Loads validate (a bad file is never overwritten); saves are atomic and keep
 * the previous file as state.json.backup; writes from parallel resource
 * completions are serialised through `update`.
 */
export class StateStore {
  readonly dir: string;
  readonly file: string;
  readonly lockFile: string;
  #state: StackState | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(readonly home: string, readonly stack: string) {
    this.dir = stackDir(home, stack);
    this.file = join(this.dir, "state.json");
    this.lockFile = join(this.dir, "state.lock");
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  /** The state as last loaded or saved. */
  get current(): StackState | undefined {
    return this.#state;
  }

  /** Reads, migrates and validates the state; undefined when the stack has none yet. */
  load(): StackState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new PilotError(`Cannot read the state file ${this.file}: ${(err as Error).message}.`, {
        hint: "Check its permissions; Pilot will not touch it until it can read it.",
      });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw this.#corrupt("it is not valid JSON");
    }
    const version = (data as { version?: unknown })?.version;
    if (typeof version === "number" && version > STATE_VERSION) {
      throw new PilotError(`The state file ${this.file} was written by a newer Pilot (state version ${version}).`, {
        hint: "Upgrade Pilot to manage this stack; this version left the file untouched.",
      });
    }
    if (typeof version === "number" && version < STATE_VERSION) data = migrate(data as { version: number });
    const problem = validate(data);
    if (problem) throw this.#corrupt(problem);
    this.#state = data as StackState;
    return this.#state;
  }

  #corrupt(problem: string): PilotError {
    return new PilotError(`The state file ${this.file} is damaged (${problem}); Pilot left it untouched.`, {
      hint: `Restore it from ${this.file}.backup or fix it by hand, then run the command again.`,
    });
  }

  /** A fresh state with a new lineage; not written until save(). */
  init(provider: ProviderName, settings: Record<string, unknown>): StackState {
    this.#state = {
      version: STATE_VERSION,
      lineage: randomUUID(),
      serial: 0,
      provider,
      settings,
      resources: {},
      secrets: {},
      server: {},
    };
    return this.#state;
  }

  /** Takes the stack's lock (creating the stack folder, 0700). */
  lock(command: string): Lock {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return acquireLock(this.lockFile, this.stack, command);
  }

  /** Applies a change to the in-memory state and writes it; calls are serialised. */
  update(change: (state: StackState) => void): Promise<void> {
    const run = async () => {
      if (!this.#state) throw new Error("state not loaded");
      change(this.#state);
      this.#write(this.#state);
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Writes the current state (serial + 1). */
  save(): Promise<void> {
    return this.update(() => undefined);
  }

  #write(state: StackState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    state.serial += 1;
    const problem = validate(state);
    if (problem) throw new Error(`refusing to write an invalid state (${problem})`);
    if (existsSync(this.file)) {
      copyFileSync(this.file, `${this.file}.backup`);
      chmodSync(`${this.file}.backup`, 0o600);
    }
    writeFileAtomic(this.file, JSON.stringify(state, null, 2) + "\n");
  }
}
