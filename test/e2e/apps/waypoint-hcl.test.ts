/**
 * Every waypoint.hcl `pilot new app` generates, checked by the real Waypoint
 * 0.11.4 binary (the image `npm run waypoint:build` makes), offline
 * (`--network none`), in three steps, because no single Waypoint command
 * validates a file against its plugins (0.11.4 has no `config validate`, and
 * `waypoint init` loads the plugins without their configuration):
 *
 *   1. `waypoint init` in local mode: Waypoint's own loader and validator
 *      (internal/config): stanzas, labels, the runner block;
 *   2. `waypoint build -local`: the build and registry plugins decode their
 *      `use` bodies (an unknown or missing field is an HCL diagnostic there),
 *      then the build stops for want of Docker or cloud credentials;
 *   3. `waypoint up -local` of the same file with its build swapped for
 *      `docker-ref` (which needs nothing): the deploy plugin decodes its body,
 *      then stops for want of Docker or credentials;
 *   4. where the file has a release stanza (cloud-run: Waypoint's `null`
 *      releaser, since Pilot releases Cloud Run apps itself), `waypoint up
 *      -local` with the deploy swapped for the `null` platform too, so the
 *      release stanza as written is decoded and run to the end.
 *
 * A step passes when it got to the stage and printed no HCL diagnostic
 * (`waypoint.hcl:LINE,COL-COL: ...`); a planted bad field shows the check fails.
 * And `waypoint fmt` leaves each file as it is. (What an ECS app's secrets
 * variable does once set: ecs-secrets-variable.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderAppHcl } from "../../../src/apps/hcl.js";
import { requireDocker } from "../../support/docker.js";
import { GOLDEN_INPUTS } from "../../unit/commands/new-app/inputs.js";
import { deployOnly } from "../../support/waypoint-files.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const GOLDEN = new URL("../../unit/commands/new-app/", import.meta.url);
const golden = (name: string) => readFileSync(new URL(`${name}.golden`, GOLDEN), "utf8");
/** How HCL reports a problem at a place in the file (hcl.Diagnostic's "file:line,col-col: summary"). */
const DIAGNOSTIC = /waypoint\.hcl:\d+,\d+-\d+: /;

let image: string;
let work: string;
beforeAll(() => {
  requireDocker();
  image = realWaypointImage();
  work = mkdtempSync(join(tmpdir(), "pilot-hcl-e2e-"));
}, 45 * 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Checked {
  init: string;
  build: string;
  up: string;
  /** Step 4's output, with its exit status ("::release-exit N"). */
  release: string;
  /** `waypoint fmt` left the file as it was. */
  formatted: boolean;
}

/** The file with its deploy stanza replaced by the `null` platform (so the release step runs with no cloud). */
function releaseOnly(text: string): string {
  const lines = deployOnly(text).split("\n");
  const start = lines.indexOf("  deploy {");
  const end = lines.indexOf("  }", start);
  expect(start >= 0 && end > start, "the file has an app-level deploy stanza").toBe(true);
  return [...lines.slice(0, start), "  deploy {", '    use "null" {}', "  }", ...lines.slice(end + 1)].join("\n");
}

/** Runs the steps in one container of the real image; returns each step's output. */
function check(name: string, text: string): Checked {
  const dir = join(work, name);
  spawnSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "real.hcl"), text);
  writeFileSync(join(dir, "deploy.hcl"), deployOnly(text));
  writeFileSync(join(dir, "release.hcl"), releaseOnly(text));
  // -plain: no spinners; </dev/null: no questions; HOME: local mode keeps its data in the container.
  // Each operation is bounded: the checks need only what Waypoint says before it reaches the
  // network (none here), and with no Docker daemon the pack builder has been seen to spin for good.
  const wp = "timeout -s KILL 120 waypoint";
  const script = [
    "export HOME=/tmp",
    "mkdir -p /tmp/a /tmp/b /tmp/c && cp /w/real.hcl /tmp/a/waypoint.hcl && cp /w/deploy.hcl /tmp/b/waypoint.hcl && cp /w/release.hcl /tmp/c/waypoint.hcl",
    "cd /tmp/a && echo '::init' && waypoint init -plain </dev/null 2>&1; echo \"::init-exit $?\"",
    `echo '::build' && ${wp} build -local -plain </dev/null 2>&1`,
    `cd /tmp/b && waypoint init -plain </dev/null >/dev/null 2>&1; echo '::up' && ${wp} up -local -plain </dev/null 2>&1`,
    `cd /tmp/c && waypoint init -plain </dev/null >/dev/null 2>&1; echo '::release' && ${wp} up -local -plain </dev/null 2>&1; echo "::release-exit $?"`,
    // `waypoint fmt` rewrites the file in place: unchanged means Pilot already writes it as Waypoint would.
    "cp /w/real.hcl /tmp/f.hcl && waypoint fmt /tmp/f.hcl >/dev/null 2>&1 && cmp -s /w/real.hcl /tmp/f.hcl && echo '::fmt-same'",
    "echo '::end'",
  ].join("\n");
  // Named, so that a run cut short is removed: killing `docker run` leaves its container running.
  const container = `pilot-hcl-check-${name}-${process.pid}`;
  const r = spawnSync("docker", ["run", "--rm", "--name", container, "--network", "none", "-v", `${dir}:/w:ro`, "--entrypoint", "sh", image, "-c", script], {
    encoding: "utf8",
    timeout: 480_000,
    killSignal: "SIGKILL",
  });
  spawnSync("docker", ["rm", "-f", container]);
  const out = `${r.stdout}${r.stderr}`;
  // Waypoint wraps its messages at 80 columns even with -plain: each step's output as one line.
  const part = (from: string, to: string) => out.slice(out.indexOf(from) + from.length, out.indexOf(to)).replace(/\s*\n\s*/g, " ");
  expect(out, out).toContain("::end");
  return {
    init: part("::init\n", "::build"),
    build: part("::build\n", "::up"),
    up: part("::up\n", "::release\n"),
    release: part("::release\n", "::end"),
    formatted: out.includes("::fmt-same"),
  };
}

describe("generated waypoint.hcl against the real Waypoint 0.11.4", () => {
  for (const target of ["docker", "ecs", "cloud-run"]) {
    it(`${target}: loads, and its build, registry and deploy plugins take every field`, () => {
      const c = check(target, golden(target));
      expect(c.init, c.init).toContain("Project initialized!");
      expect(c.init).toContain("::init-exit 0");
      expect(c.build, c.build).toContain("» Building web...");
      expect(c.build, c.build).not.toMatch(DIAGNOSTIC);
      expect(c.up, c.up).toContain("» Deploying web...");
      expect(c.up, c.up).not.toMatch(DIAGNOSTIC);
      expect(c.formatted).toBe(true);
    });
  }

  it("cloud-run: its release stanza is Waypoint's null releaser, which takes it as written and releases nothing", () => {
    for (const [name, text] of [["cloud-run-release", golden("cloud-run")], ["cloud-run-public", renderAppHcl({ ...GOLDEN_INPUTS["cloud-run"], public: true })]] as const) {
      expect(text).toContain('  release {\n    use "null" {}\n  }\n');
      const c = check(name, text);
      expect(c.init, c.init).toContain("::init-exit 0");
      expect(c.up, c.up).toContain("» Deploying web...");
      expect(c.up, c.up).not.toMatch(DIAGNOSTIC);
      expect(c.release, c.release).toContain("» Releasing web...");
      expect(c.release, c.release).toContain("null release complete");
      expect(c.release, c.release).not.toMatch(DIAGNOSTIC);
      expect(c.release).toContain("::release-exit 0");
      expect(c.formatted).toBe(true);
    }
  });

  it("ecs without --with-db (its secrets variable's default is {}): loads, the deploy plugin takes it, and fmt leaves it as written", () => {
    const c = check("ecs-no-db", renderAppHcl({ ...GOLDEN_INPUTS.ecs, withDb: false }));
    expect(c.init).toContain("::init-exit 0");
    expect(c.up, c.up).toContain("» Deploying web...");
    expect(c.up, c.up).not.toMatch(DIAGNOSTIC);
    expect(c.formatted).toBe(true);
  });

  it("the check fails on a field a plugin does not have, or a required one left out", () => {
    const ecs = golden("ecs");
    // Each edit must find its anchor, or the check would pass on an unchanged file.
    const anchor = "      assign_public_ip = true";
    expect(ecs).toContain(anchor);
    const badDeploy = check("bad-deploy", ecs.replace(anchor, `${anchor}\n      public_url = true`));
    expect(badDeploy.up).toMatch(/waypoint\.hcl:\d+,\d+-\d+: Unsupported argument; An argument named "public_url" is/);
    const badRegistry = check("bad-registry", ecs.replace('        tag        = "latest"\n', ""));
    expect(badRegistry.build).toMatch(/waypoint\.hcl:\d+,\d+-\d+: Missing required argument; The argument "tag" is required/);
    const badStanza = check("bad-stanza", ecs.replace('app "web" {', 'app "web" {\n  colour {}'));
    expect(badStanza.init).toMatch(/waypoint\.hcl:\d+,\d+-\d+: Unsupported block type; Blocks of type "colour" are not expected here/);
    expect(badStanza.init).not.toContain("::init-exit 0");
    // Step 4 decodes the release stanza: a field the null releaser does not have fails it.
    const run = golden("cloud-run");
    const release = '  release {\n    use "null" {}\n';
    expect(run).toContain(release);
    const badRelease = check("bad-release", run.replace(release, '  release {\n    use "null" {\n      colour = "red"\n    }\n'));
    expect(badRelease.release).toMatch(/waypoint\.hcl:\d+,\d+-\d+: Unsupported argument; An argument named "colour" is/);
    expect(badRelease.release).not.toContain("::release-exit 0");
  });
});
