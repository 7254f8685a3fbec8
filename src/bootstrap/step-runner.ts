import { createHash } from "node:crypto";
import type { EmitFn } from "../engine/types.js";
import { PilotError, errorText } from "../errors.js";
import { redactText } from "../secret.js";
import { shellJoin } from "./shell-quote.js";
import { isUpload, type Action, type Command, type ExecResult, type Executor, type Step } from "./types.js";

/** How a step ended. */
export type StepOutcome = "skipped" | "applied" | "would-apply";

/** Hooks and knobs for one step. Clocks are injectable so unit tests do not wait. */
export interface RunStepOptions {
  emit: EmitFn;
  /** Run the checks only; report what apply would do. */
  dryRun?: boolean;
  /** Builds the real apply only when it is needed (e.g. fetch the server cookie first). */
  prepareApply?: () => Promise<Action[]>;
  /** Sees the results of the apply's commands (e.g. to save the bootstrap token at once). */
  afterApply?: (results: ExecResult[]) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The key bootstrap events carry: `bootstrap:<step name>`. */
export function stepKey(step: Step): string {
  return `bootstrap:${step.name}`;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One line of output for messages: the last non-empty line, secrets removed. */
function tail(text: string, secrets: string[]): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return redactText(lines.slice(-3).join(" | "), secrets);
}

function secretsOf(commands: Command[]): string[] {
  return commands.flatMap((c) => (c.stdin ? c.stdin.split(/\r?\n/).map((l) => l.replace(/^[A-Z_]+=/, "")) : []));
}

function matches(c: Command, r: ExecResult): boolean {
  if (r.code !== 0) return false;
  if (!c.expect) return true;
  if ("stdout" in c.expect) return r.stdout.trim() === c.expect.stdout;
  return createHash("sha256").update(r.stdout).digest("hex") === c.expect.sha256;
}

/** Runs a step's checks in order; done when all pass. An empty check list is never done. */
export async function runChecks(exec: Executor, step: Step): Promise<{ done: boolean; last?: ExecResult; failed?: Command }> {
  if (step.check.length === 0) return { done: false };
  let last: ExecResult | undefined;
  for (const c of step.check) {
    last = await exec.run(c.argv, { stdin: c.stdin, timeoutMs: c.timeoutMs });
    if (!matches(c, last)) return { done: false, last, failed: c };
  }
  return { done: true, last };
}

async function applyOnce(exec: Executor, step: Step, actions: Action[]): Promise<ExecResult[]> {
  const results: ExecResult[] = [];
  const secrets = secretsOf(actions.filter((a): a is Command => !isUpload(a)));
  for (const a of actions) {
    if (isUpload(a)) {
      await exec.upload(a.upload, a.content, a.mode);
      continue;
    }
    const r = await exec.run(a.argv, { stdin: a.stdin, timeoutMs: a.timeoutMs });
    if (r.code !== 0) {
      throw new PilotError(
        `bootstrap step "${step.name}": \`${shellJoin(a.argv)}\` exited ${r.code}: ${tail(r.stderr || r.stdout, secrets) || "(no output)"}`,
      );
    }
    results.push(r);
  }
  return results;
}

/**
 * Check; if done, skip. Otherwise apply (retrying if the step allows) and
 * check again. Wait steps poll their check instead. Emits start/progress/
 * done/failed events keyed `bootstrap:<name>`; a skipped step's done event
 * has action "check", an applied one "update". A wait step that had to poll
 * still counts as skipped (it changed nothing) and reports its polls as progress.
 */
export async function runStep(exec: Executor, step: Step, opts: RunStepOptions): Promise<StepOutcome> {
  const key = stepKey(step);
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const emit = opts.emit;
  emit({ type: "start", key, action: "check" });
  try {
    const first = await runChecks(exec, step);
    if (first.done) {
      emit({ type: "done", key, action: "check" });
      return "skipped";
    }
    if (opts.dryRun) {
      emit({ type: "skipped", key, reason: `dry run: would ${step.description}` });
      return "would-apply";
    }

    if (step.wait) {
      const deadline = now() + step.wait.timeoutMs;
      let last = first;
      for (let attempt = 1; !last.done; attempt++) {
        if (now() >= deadline) {
          const out = last.last ? tail(last.last.stderr || last.last.stdout, []) : "";
          throw new PilotError(
            `bootstrap step "${step.name}": still not ready after ${Math.round(step.wait.timeoutMs / 1000)} s (${step.description})${out ? `: ${out}` : ""}`,
          );
        }
        emit({ type: "progress", key, message: `waiting (${attempt})${last.last ? `: ${tail(last.last.stdout || last.last.stderr, []) || `exit ${last.last.code}`}` : ""}` });
        await sleep(step.wait.intervalMs);
        last = await runChecks(exec, step);
      }
      // Waiting changes nothing on the server, so a wait is never reported as applied.
      emit({ type: "done", key, action: "check" });
      return "skipped";
    }

    emit({ type: "progress", key, message: step.description });
    const actions = opts.prepareApply ? await opts.prepareApply() : step.apply;
    let results: ExecResult[];
    if (step.retryApply) {
      const deadline = now() + step.retryApply.timeoutMs;
      for (let attempt = 1; ; attempt++) {
        try {
          results = await applyOnce(exec, step, actions);
          break;
        } catch (err) {
          if (!(err instanceof PilotError) || now() >= deadline) throw err;
          emit({ type: "progress", key, message: `retrying (${attempt}): ${err.message}` });
          await sleep(step.retryApply.intervalMs);
        }
      }
    } else {
      results = await applyOnce(exec, step, actions);
    }
    if (opts.afterApply) await opts.afterApply(results);

    if (step.recheck !== false && step.check.length > 0) {
      const again = await runChecks(exec, step);
      if (!again.done) {
        const out = again.last ? tail(again.last.stderr || again.last.stdout, secretsOf(step.check)) : "";
        throw new PilotError(
          `bootstrap step "${step.name}": applied, but its check still fails` +
            (again.failed ? ` (\`${shellJoin(again.failed.argv)}\` exited ${again.last?.code}${out ? `: ${out}` : ""})` : ""),
        );
      }
    }
    emit({ type: "done", key, action: "update" });
    return "applied";
  } catch (err) {
    emit({ type: "failed", key, error: errorText(err) });
    throw err;
  }
}
