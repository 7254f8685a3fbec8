import { describe, expect, it } from "vitest";
import { JobReader, urlFromJob } from "../../../src/apps/job.js";

/** A reader on a clock the test moves, recording what it reports. */
function reader() {
  let now = 0;
  const events: string[] = [];
  const r = new JobReader(
    {
      phaseStart: (p) => events.push(`start ${p}`),
      phaseDone: (p, s) => events.push(`done ${p} ${s}`),
      line: () => {},
    },
    () => now,
  );
  return { r, events, tick: (ms: number) => (now += ms) };
}

describe("reading a streamed `waypoint up`", () => {
  it("times each phase from its header, across chunks split mid-line", () => {
    const { r, events, tick } = reader();
    r.feed("  Performing this operation on a remote runner\n» Cloning data from Git\n");
    tick(1200);
    r.feed("» Buil");
    r.feed("ding web...\n-> Building image\n");
    tick(6500);
    r.feed("» Deploying web...\n");
    tick(2000);
    r.feed("» Releasing web...\nNo release phase specified, skipping...");
    tick(300);
    expect(r.finish(true)).toEqual([
      { phase: "clone", seconds: 1.2 },
      { phase: "build", seconds: 6.5 },
      { phase: "deploy", seconds: 2 },
      { phase: "release", seconds: 0.3 },
    ]);
    expect(events).toEqual(["start clone", "done clone 1.2", "start build", "done build 6.5", "start deploy", "done deploy 2", "start release", "done release 0.3"]);
    expect(r.lines).toContain("No release phase specified, skipping...");
  });

  it("a failed job names the phase it failed in and keeps its last lines, without reporting it done", () => {
    const { r, events } = reader();
    r.feed("» Building web...\nStep 1/4 : FROM nothing\n! failed to build: pull access denied\n");
    r.finish(false);
    expect(r.phase).toBe("build");
    expect(events).toEqual(["start build"]);
    expect(r.tail(2)).toEqual(["Step 1/4 : FROM nothing", "! failed to build: pull access denied"]);
  });

  it("finds a release URL when the platform printed one", () => {
    expect(urlFromJob(["The deploy was successful!", "   Release URL: https://web-abc.a.run.app"])).toBe("https://web-abc.a.run.app");
    expect(urlFromJob(["The release did not provide a URL and the URL service is disabled"])).toBeUndefined();
  });
});
