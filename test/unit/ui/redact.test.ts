import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/secret.js";
import { redactDeep } from "../../../src/ui/redact.js";

describe("redactDeep", () => {
  it("hides every occurrence of every secret, at any depth, and Secret values whole", () => {
    const pw = "Zq8mV2kLx9";
    const token = "wp-token-7f3a";
    const doc = {
      line: `url=postgres://pilot:${pw}@db/pilot and again ${pw}${pw}`,
      nested: [{ message: `token ${token}, password ${pw}` }, pw],
      secret: new Secret("never shown"),
      n: 3,
    };
    const out = redactDeep(doc, [pw, token]) as typeof doc;
    const text = JSON.stringify(out);
    expect(text).not.toContain(pw);
    expect(text).not.toContain(token);
    expect(text).not.toContain("never shown");
    expect(out.line).toBe("url=postgres://pilot:[redacted]@db/pilot and again [redacted][redacted]");
    expect(out.nested[1]).toBe("[redacted]");
    expect(out.n).toBe(3);
    // The input is not changed: output is a copy.
    expect(doc.line).toContain(pw);
  });

  it("hides secrets of four characters or more; shorter strings are too common to hide", () => {
    expect(redactDeep("pin 4x9Q and 4x9 and ab", ["4x9Q", "ab", ""])).toBe("pin [redacted] and 4x9 and ab");
  });
});
