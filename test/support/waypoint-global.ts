/**
 * vitest globalSetup for the e2e tier: builds (or finds up to date) the real
 * Waypoint image once per test run, before any test file, and provides its
 * tag as `waypointImage` (tests read it with realWaypointImage() from
 * ./waypoint-image.ts).
 */
import type { TestProject } from "vitest/node";
import { buildWaypointImage } from "./docker.js";

export default function setup(project: TestProject): void {
  project.provide("waypointImage", buildWaypointImage());
}
