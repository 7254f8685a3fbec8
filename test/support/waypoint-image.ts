/**
 * The real Waypoint image (`npm run waypoint:build`, scripts/waypoint-build.sh)
 * for the e2e tier, built once per test run:
 *
 *   - `waypoint-global.ts` (vitest globalSetup of the e2e project) runs the
 *     build script once before any test file and provides the tag as
 *     `waypointImage`;
 *   - a test calls `realWaypointImage()`, which returns that tag, or (in a
 *     project without that global setup) runs the script itself, once per
 *     test file.
 *
 * The script is idempotent (an up-to-date image only prints its tag, a few
 * seconds) and holds its own lock, so concurrent runs are safe. A cold build
 * (module downloads and compile) takes about ten minutes on two cores.
 */
import { inject } from "vitest";
import { buildWaypointImage } from "./docker.js";

declare module "vitest" {
  interface ProvidedContext {
    /** The real Waypoint image's tag, e.g. "pilot-waypoint:0.11.4-52dc3210bc07". */
    waypointImage: string;
  }
}

/** The key under which waypoint-global provides the tag. */
export const WAYPOINT_IMAGE_KEY = "waypointImage";

let built: string | undefined;

/** The real Waypoint image's tag: the one the global setup built, else built here once. */
export function realWaypointImage(): string {
  const provided = inject(WAYPOINT_IMAGE_KEY) as string | undefined;
  return provided ?? (built ??= buildWaypointImage());
}
