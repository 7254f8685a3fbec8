import type { EngineEvent, PlannedChange } from "../engine/types.js";
import { redactDeep } from "./redact.js";

/**
 * Turns engine events into output. Two implementations consume the same
 * stream (Terraform's "views"): a human progress view on stderr and a JSON
 * collector that prints one document on stdout at the end.
 */
export interface Renderer {
  emit(event: EngineEvent): void;
  /** Registers secret strings to hide from everything printed from now on. */
  addSecrets(values: Iterable<string | undefined>): void;
  /** Prints the command's result: a JSON document, or human lines on stdout. */
  result(data: Record<string, unknown>, human: string[]): void;
  /** The text with every registered secret hidden, for output a command prints itself (an app's log). */
  redact(text: string): string;
  /** Prints a one-off message (stderr in both modes, so --json stdout stays one document). */
  info(message: string): void;
  warn(message: string): void;
  /** Stops timers; called once the command ends. */
  close(): void;
}

export interface RendererOptions {
  json: boolean;
  command: string;
  stack: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream | NodeJS.WritableStream;
}

export function createRenderer(opts: RendererOptions): Renderer {
  return opts.json ? new JsonRenderer(opts) : new HumanRenderer(opts);
}

const SYMBOL: Record<string, string> = { create: "+", keep: "=", update: "~", replace: "-/+", delete: "-" };

/**
 * The plan as aligned human lines ("+ vpc  aws.ec2.vpc  create: not yet
 * created"), changes only: what stays as it is goes into the count, as in
 * Terraform's "No changes".
 */
export function formatPlan(changes: PlannedChange[]): string[] {
  const changing = changes.filter((c) => c.action !== "keep");
  if (changing.length === 0) return [`No changes: all ${changes.length} resources are up to date.`];
  const w = Math.max(0, ...changing.map((c) => c.key.length));
  const t = Math.max(0, ...changing.map((c) => c.type.length));
  const lines = changing.map(
    (c) => `  ${(SYMBOL[c.action] ?? "?").padEnd(3)} ${c.key.padEnd(w)}  ${c.type.padEnd(t)}  ${c.action}: ${c.reason}`,
  );
  const count = (a: string) => changes.filter((c) => c.action === a).length;
  lines.push(
    `Plan: ${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ${count("delete")} to delete, ${count("keep")} unchanged.`,
  );
  return lines;
}

function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

abstract class BaseRenderer implements Renderer {
  protected secrets: string[] = [];
  protected readonly stdout: NodeJS.WritableStream;
  protected readonly stderr: NodeJS.WritableStream;
  constructor(protected readonly opts: RendererOptions) {
    this.stdout = opts.stdout ?? process.stdout;
    this.stderr = opts.stderr ?? process.stderr;
  }
  addSecrets(values: Iterable<string | undefined>): void {
    for (const v of values) if (v) this.secrets.push(v);
  }
  protected clean(text: string): string {
    return redactDeep(text, this.secrets) as string;
  }
  redact(text: string): string {
    return this.clean(text);
  }
  info(message: string): void {
    this.stderr.write(this.clean(message) + "\n");
  }
  warn(message: string): void {
    this.stderr.write(this.clean(`warning: ${message}`) + "\n");
  }
  abstract emit(event: EngineEvent): void;
  abstract result(data: Record<string, unknown>, human: string[]): void;
  close(): void {}
}

/**
 * Progress on stderr. On a terminal, one live line per resource in flight,
 * redrawn every second with the resource's own status and elapsed time (an RDS
 * instance takes minutes); elsewhere (CI, pipes) plain lines, a status line
 * only when the status changes.
 */
class HumanRenderer extends BaseRenderer {
  readonly #active = new Map<string, { since: number; status: string; action: string }>();
  readonly #tty: boolean;
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: RendererOptions) {
    super(opts);
    this.#tty = Boolean((this.stderr as NodeJS.WriteStream).isTTY) && !process.env.CI;
  }

  #write(line: string) {
    this.#erase();
    this.stderr.write(this.clean(line) + "\n");
    this.#draw();
  }
  #erase() {
    if (!this.#tty || this.#drawn === 0) return;
    this.stderr.write(`\x1b[${this.#drawn}A\x1b[0J`);
    this.#drawn = 0;
  }
  #draw() {
    if (!this.#tty) return;
    const lines = [...this.#active].map(([key, a]) => `  … ${key}: ${a.status} (${elapsed(a.since)})`);
    if (lines.length) this.stderr.write(this.clean(lines.join("\n")) + "\n");
    this.#drawn = lines.length;
    if (lines.length && !this.#timer) {
      this.#timer = setInterval(() => {
        this.#erase();
        this.#draw();
      }, 1000);
      this.#timer.unref();
    } else if (!lines.length && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  emit(event: EngineEvent): void {
    switch (event.type) {
      case "plan":
        this.#write(formatPlan(event.changes).join("\n"));
        break;
      case "start":
        if (event.action === "keep") return;
        this.#active.set(event.key, { since: Date.now(), status: `${event.action === "check" ? "checking" : event.action + "…"}`, action: event.action });
        // A check that passes is silent; the step only shows up (as progress) if it must act.
        if (!this.#tty && event.action !== "check") this.#write(`  ${event.key}: ${event.action}…`);
        else {
          this.#erase();
          this.#draw();
        }
        break;
      case "progress": {
        const a = this.#active.get(event.key);
        if (a && a.status === event.message) return;
        if (a) a.status = event.message;
        // A waiter's status already carries its elapsed time ("PENDING_CREATE (3m05s)"): say it once.
        const timed = /\((\d+m)?\d+s\)/.test(event.message);
        if (!this.#tty) this.#write(`  ${event.key}: ${event.message}${a && !timed ? ` (${elapsed(a.since)})` : ""}`);
        break;
      }
      case "done": {
        const a = this.#active.get(event.key);
        this.#active.delete(event.key);
        if (event.action === "keep" || event.action === "check") return;
        const verb = { create: "created", update: "updated", replace: "replaced", delete: "deleted", adopt: "adopted", check: "ok", keep: "kept" }[event.action];
        // A delete's last word can matter after the live line is gone ("final snapshot X kept").
        const last = event.action === "delete" && a && !a.status.endsWith("…") ? ` — ${a.status}` : "";
        this.#write(`  ✓ ${event.key}: ${verb}${event.id ? ` ${event.id}` : ""}${a ? ` (${elapsed(a.since)})` : ""}${last}`);
        break;
      }
      case "failed":
        this.#active.delete(event.key);
        this.#write(`  ✗ ${event.key}: ${event.error}`);
        break;
      case "skipped":
        this.#write(`  - ${event.key}: skipped, ${event.reason}`);
        break;
      case "log":
        this.#write(event.level === "warn" ? `warning: ${event.message}` : event.message);
        break;
    }
  }

  result(_data: Record<string, unknown>, human: string[]): void {
    this.#erase();
    if (human.length) this.stdout.write(this.clean(human.join("\n")) + "\n");
  }

  close(): void {
    this.#erase();
    if (this.#timer) clearInterval(this.#timer);
  }
}

/** Collects events and prints one JSON document on stdout; logs go to stderr. */
class JsonRenderer extends BaseRenderer {
  readonly #events: EngineEvent[] = [];
  emit(event: EngineEvent): void {
    this.#events.push(event);
    if (event.type === "log") this.info(event.message);
    // Failures reach stderr too, so a script that only shows stderr still says what broke.
    if (event.type === "failed") this.info(`failed: ${event.key}: ${event.error}`);
  }
  result(data: Record<string, unknown>): void {
    const doc = { command: this.opts.command, stack: this.opts.stack, ...data, events: this.#events };
    this.stdout.write(JSON.stringify(redactDeep(doc, this.secrets), null, 2) + "\n");
  }
}
