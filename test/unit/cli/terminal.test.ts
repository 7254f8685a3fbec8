/**
 * Terminal manners: help carries colour codes only on a terminal that wants
 * them (not through a pipe, not with NO_COLOR set to anything), and no line
 * ends in blanks. citty's own rule is narrower (it strips colour only for
 * NO_COLOR=1, CI, TEST or TERM=dumb), so these runs clear CI and TEST, which
 * the test runner sets, to see what a user's shell would get.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { colourAllowed, stripAnsi, tidyText } from "../../../src/ui/terminal.js";
import { hasScript, Pty } from "../../support/pty.js";
import { CLI, runCli } from "../../support/run-cli.js";
import { tempHome } from "../../support/temp-home.js";

const ESC = "\x1b[";
/** A user's shell: none of the variables test runners and CI set. */
const userEnv = { CI: undefined, TEST: undefined, VITEST: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: "xterm-256color" };
const trailingBlank = (text: string) => text.split("\n").filter((l) => /[ \t]$/.test(l));

describe("tidyText", () => {
  it("keeps colour only for a terminal without NO_COLOR or TERM=dumb", () => {
    expect(colourAllowed({ isTTY: true }, {})).toBe(true);
    expect(colourAllowed({ isTTY: false }, {})).toBe(false);
    expect(colourAllowed({ isTTY: true }, { NO_COLOR: "yes" })).toBe(false);
    expect(colourAllowed({ isTTY: true }, { NO_COLOR: "" })).toBe(true); // no-color.org: an empty value does not count
    expect(colourAllowed({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });
  it("strips SGR codes and trailing blanks, also blanks hidden before a closing colour code", () => {
    expect(stripAnsi("\x1b[36m--name\x1b[39m")).toBe("--name");
    expect(tidyText("a  \n\x1b[36mb\x1b[39m   \nc", { isTTY: false }, {})).toBe("a\nb\nc");
    expect(tidyText("\x1b[90mb   \x1b[39m", { isTTY: true }, {})).toBe("\x1b[90mb\x1b[39m");
  });
});

describe("pilot help through a pipe", () => {
  for (const args of [["up-server", "--help"], ["new", "app", "--help"], ["new", "--help"], ["--help"]]) {
    it(`pilot ${args.join(" ")}: no colour codes, no trailing blanks`, async () => {
      const r = await runCli(args, userEnv);
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(50);
      expect(r.stdout.includes(ESC)).toBe(false);
      expect(trailingBlank(r.stdout)).toEqual([]);
    });
  }

  it("pilot new app --help loads no cloud SDK (ECR and Artifact Registry are imported only when used)", async () => {
    const t = tempHome();
    try {
      const trace = join(t.home, "imports.txt");
      writeFileSync(trace, "");
      const tracer = fileURLToPath(new URL("../../support/trace-imports.mjs", import.meta.url));
      const r = await runCli(["new", "app", "--help"], { PILOT_TRACE_IMPORTS: trace }, { nodeArgs: ["--import", tracer] });
      expect(r.code).toBe(0);
      const loaded = readFileSync(trace, "utf8");
      expect(loaded).toMatch(/new-app\.js/); // the trace works
      expect(loaded).not.toMatch(/@aws-sdk|@google-cloud|googleapis|@clack/);
    } finally {
      t.cleanup();
    }
  });

  it("pilot new app --help lists its flags under the full command name", async () => {
    const r = await runCli(["new", "app", "--help"], userEnv);
    expect(r.stdout).toMatch(/pilot new app|new app/);
    for (const flag of ["--project", "--app", "--target", "--builder", "--port", "--dir", "--with-db", "--force", "--name", "--json"]) expect(r.stdout).toContain(flag);
  });
});

describe.skipIf(!hasScript())("pilot help on a terminal", () => {
  const helpOnTty = async (env: NodeJS.ProcessEnv) => {
    const pty = new Pty([process.execPath, CLI, "up-server", "--help"], env);
    expect(await pty.exited).toBe(0);
    return pty.output;
  };
  const shell = () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color" };
    for (const k of ["CI", "TEST", "VITEST", "NO_COLOR", "FORCE_COLOR"]) delete env[k];
    return env;
  };

  it("is coloured, as a terminal wants, but still has no trailing blanks", async () => {
    const out = await helpOnTty(shell());
    expect(out.includes(ESC)).toBe(true);
    expect(trailingBlank(out.replace(/\r/g, ""))).toEqual([]);
  });

  it("is plain with NO_COLOR set to any value", async () => {
    const out = await helpOnTty({ ...shell(), NO_COLOR: "yes" });
    expect(out.includes(ESC)).toBe(false);
  });
});
