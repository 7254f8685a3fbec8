import { inspect } from "node:util";

/**
 * A value that must never reach a log or --json output by accident:
 * printing, string-interpolating or JSON-serialising it gives "[redacted]".
 * `reveal()` is the one way to read it, so every use is greppable.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [inspect.custom](): string {
    return "[redacted]";
  }
}

/** Replaces every occurrence of the given secret strings in a text. */
export function redactText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  }
  return out;
}
