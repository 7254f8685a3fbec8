/**
 * Reading a remote `waypoint up -plain` as it streams: its phases come as
 * headers ("» Building web...", "» Deploying web...", "» Releasing web..."),
 * everything else is the phase's log. Pilot shows the phases with their
 * elapsed time and, when the job fails, the phase that failed and its last
 * lines.
 */

/** Header words of `waypoint up` and the phase each starts. */
const PHASES: [RegExp, string][] = [
  [/^» Cloning/, "clone"],
  [/^» Building/, "build"],
  [/^» Deploying/, "deploy"],
  [/^» Releasing/, "release"],
];

export interface PhaseTiming {
  phase: string;
  seconds: number;
}

export interface JobEvents {
  phaseStart(phase: string): void;
  phaseDone(phase: string, seconds: number): void;
  line(text: string): void;
}

/** Splits streamed output into lines and phases; `finish()` closes the last phase. */
export class JobReader {
  readonly phases: PhaseTiming[] = [];
  readonly lines: string[] = [];
  #current: { phase: string; since: number } | undefined;
  #partial = "";
  #failedPhase: string | undefined;

  constructor(private readonly events: JobEvents, private readonly now: () => number = Date.now) {}

  /** The phase under way (or the last one), for a failure message. */
  get phase(): string | undefined {
    return this.#current?.phase ?? this.#failedPhase ?? this.phases[this.phases.length - 1]?.phase;
  }

  feed(chunk: string): void {
    const text = this.#partial + chunk;
    const parts = text.split(/\r?\n/);
    this.#partial = parts.pop() ?? "";
    for (const l of parts) this.#line(l);
  }

  /** Ends the job: a failed one leaves its last phase timed but not reported done (the caller reports it failed). */
  finish(ok: boolean): PhaseTiming[] {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = "";
    this.#close(ok);
    return this.phases;
  }

  /** The last lines of the job's log (of the current phase when it has any). */
  tail(n = 12): string[] {
    return this.lines.filter((l) => l.trim()).slice(-n);
  }

  #line(raw: string): void {
    const l = raw.trimEnd();
    const phase = PHASES.find(([re]) => re.test(l.trim()))?.[1];
    if (phase && phase !== this.#current?.phase) {
      this.#close();
      this.#current = { phase, since: this.now() };
      this.events.phaseStart(phase);
    }
    this.lines.push(l);
    this.events.line(l);
  }

  #close(report = true): void {
    if (!this.#current) return;
    const seconds = Math.round((this.now() - this.#current.since) / 100) / 10;
    this.phases.push({ phase: this.#current.phase, seconds });
    if (report) this.events.phaseDone(this.#current.phase, seconds);
    else this.#failedPhase = this.#current.phase;
    this.#current = undefined;
  }
}

/** A URL the job printed for the release or deployment, if any (platforms with a releaser print one). */
export function urlFromJob(lines: string[]): string | undefined {
  for (const l of [...lines].reverse()) {
    const m = /(?:URL|url)[^:]*:\s*(https?:\/\/\S+)/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}
