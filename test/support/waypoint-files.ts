/** Variants of a generated waypoint.hcl that the e2e tier runs the real Waypoint on. */
import { expect } from "vitest";

/**
 * The file with its build stanza replaced by `docker-ref` of the image it names (busybox
 * if none), which needs neither Docker nor a registry, so `waypoint up -local` gets to the
 * deploy plugin (Cloud Run checks the registry's name later).
 */
export function deployOnly(text: string): string {
  const image = /image\s*=\s*"([^"]+)"/.exec(text)?.[1] ?? "busybox";
  const lines = text.split("\n");
  const start = lines.indexOf("  build {");
  const end = lines.indexOf("  }", start);
  expect(start >= 0 && end > start, "the file has an app-level build stanza").toBe(true);
  const ref = ["  build {", '    use "docker-ref" {', `      image = "${image}"`, '      tag   = "latest"', "    }", "  }"];
  return [...lines.slice(0, start), ...ref, ...lines.slice(end + 1)].join("\n");
}
