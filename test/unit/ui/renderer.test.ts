import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/secret.js";
import { createRenderer, formatPlan } from "../../../src/ui/renderer.js";
import { redactDeep } from "../../../src/ui/redact.js";

function capture() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d) => (text += d));
  return { stream, text: () => text };
}

describe("formatPlan", () => {
  it("aligns one line per change, leaves out what is kept, and counts the actions", () => {
    const lines = formatPlan([
      { key: "vpc", type: "aws.ec2.vpc", action: "keep", reason: "up to date" },
      { key: "sg-server", type: "aws.ec2.security-group", action: "update", reason: "ingress changed" },
      { key: "db", type: "aws.rds.instance", action: "create", reason: "deleted outside Pilot" },
    ]);
    expect(lines).toEqual([
      "  ~   sg-server  aws.ec2.security-group  update: ingress changed",
      "  +   db         aws.rds.instance        create: deleted outside Pilot",
      "Plan: 1 to create, 1 to update, 0 to replace, 0 to delete, 1 unchanged.",
    ]);
  });

  it("says so in one line when nothing changes", () => {
    expect(formatPlan([{ key: "vpc", type: "aws.ec2.vpc", action: "keep", reason: "up to date" }])).toEqual([
      "No changes: all 1 resources are up to date.",
    ]);
  });
});

describe("renderers", () => {
  it("the JSON renderer prints one document with every event and no secret", () => {
    const out = capture();
    const err = capture();
    const ui = createRenderer({ json: true, command: "up-server", stack: "s", stdout: out.stream, stderr: err.stream });
    ui.addSecrets(["hunter2-password"]);
    ui.emit({ type: "failed", key: "db", error: "InvalidParameterValue: password hunter2-password is too short" });
    ui.emit({ type: "log", level: "info", message: "note hunter2-password" });
    ui.result({ ok: false, token: new Secret("tok-123456") }, []);
    const doc = JSON.parse(out.text());
    expect(doc).toMatchObject({ command: "up-server", stack: "s", ok: false, token: "[redacted]" });
    expect(doc.events[0].error).toBe("InvalidParameterValue: password [redacted] is too short");
    expect(out.text() + err.text()).not.toContain("hunter2-password");
    expect(err.text()).toBe("failed: db: InvalidParameterValue: password [redacted] is too short\nnote [redacted]\n");
  });

  it("the human renderer keeps a delete's last status on its done line", () => {
    const out = capture();
    const err = capture();
    const ui = createRenderer({ json: false, command: "teardown", stack: "s", stdout: out.stream, stderr: err.stream });
    ui.emit({ type: "start", key: "db", action: "delete" });
    ui.emit({ type: "progress", key: "db", message: "deleted; final snapshot pilot-s-db-final-202611281200 kept" });
    ui.emit({ type: "done", key: "db", action: "delete", id: "pilot-s-db" });
    ui.close();
    expect(err.text()).toMatch(/✓ db: deleted pilot-s-db \(0s\) — deleted; final snapshot pilot-s-db-final-202611281200 kept/);
  });
});

describe("redactDeep", () => {
  it("hides known secrets inside nested values and Secret objects, leaving the input alone", () => {
    const input = { a: ["x supersecret y"], b: { c: new Secret("other") }, n: 3 };
    expect(redactDeep(input, ["supersecret"])).toEqual({ a: ["x [redacted] y"], b: { c: "[redacted]" }, n: 3 });
    expect(input.a[0]).toBe("x supersecret y");
  });
  it("ignores very short secrets that would shred ordinary text", () => {
    expect(redactDeep("a b c", ["a"])).toBe("a b c");
  });
});
