/**
 * The one place Pilot turns an argv into shell text. An SSH "exec" request
 * carries a single string that the remote user's login shell parses, so every
 * argument crosses a shell once: each is wrapped in single quotes, inside
 * which POSIX shells treat every byte literally except the single quote
 * itself, which is written as '\'' (close, escaped quote, reopen).
 *
 * Audited properties (test/unit/bootstrap/shell-quote.test.ts):
 * - `$()`, backticks, `;`, `|`, globs, `~`, newlines and unicode reach the
 *   command unchanged as one argument;
 * - the empty string stays an (empty) argument instead of vanishing;
 * - NUL cannot be passed through any shell or exec, so it is refused.
 */

/** Characters that never need quoting: keeps logs readable (`docker ps -a`). */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell. Throws on NUL bytes. */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new Error("shellQuote: an argument cannot contain a NUL byte");
  if (arg.length > 0 && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every argument and joins them with spaces: argv → one shell command line. */
export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("shellJoin: empty argv");
  return argv.map(shellQuote).join(" ");
}
