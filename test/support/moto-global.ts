/**
 * vitest globalSetup for the integration and e2e tiers: one moto server for
 * the whole run, its URL provided as `motoEndpoint` (read it in a test with
 * `inject("motoEndpoint")`), stopped when the run ends. See ./moto.ts.
 */
import type { TestProject } from "vitest/node";
import { MOTO_ENDPOINT_KEY, startMoto } from "./moto.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide(MOTO_ENDPOINT_KEY, moto.url);
  return () => moto.stop();
}
