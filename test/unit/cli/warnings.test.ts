import { afterEach, describe, expect, it, vi } from "vitest";
import { filterSdkWarnings } from "../../../src/ui/warnings.js";

describe("filterSdkWarnings", () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it("drops the AWS SDK's Node-version notice and passes other warnings through", () => {
    const seen: string[] = [];
    const original = process.emitWarning;
    const spy = vi.fn((w: string | Error) => seen.push(typeof w === "string" ? w : w.message));
    process.emitWarning = spy as unknown as typeof process.emitWarning;
    restore = filterSdkWarnings();
    try {
      process.emitWarning("NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\nversions published after ...");
      process.emitWarning("something else", "DeprecationWarning");
      process.emitWarning(Object.assign(new Error("also kept"), { name: "ExperimentalWarning" }));
    } finally {
      restore();
      restore = undefined;
      process.emitWarning = original;
    }
    expect(seen).toEqual(["something else", "also kept"]);
  });
});
