/**
 * Terminal manners for everything Pilot prints for people: colour only on a
 * terminal that wants it, and no trailing blanks. citty's help renderer
 * colours by its own rule (NO_COLOR must be exactly "1"; a pipe still gets
 * escape codes) and pads every line to the widest column, so its text passes
 * through tidyText before it is written.
 */

/** ESC [ … m: SGR sequences, the only ones help text carries. */
const SGR = /\x1b\[[0-9;]*m/g;

/**
 * Colour is for a terminal: the stream must be a TTY, NO_COLOR (no-color.org:
 * any non-empty value) unset, and TERM not "dumb".
 */
export function colourAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== "dumb";
}

export function stripAnsi(text: string): string {
  return text.replace(SGR, "");
}

/** Text ready for `stream`: colour codes removed unless allowed, trailing blanks removed from every line. */
export function tidyText(text: string, stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): string {
  const plain = colourAllowed(stream, env) ? text : stripAnsi(text);
  return plain
    .split("\n")
    .map((line) => line.replace(/[ \t]+((?:\x1b\[[0-9;]*m)*)$/, "$1"))
    .join("\n");
}
