import { defineConfig } from "vitest/config";

// Three tiers (DESIGN.md "Tests"): unit (pure, mocked SDKs), integration
// (real SDK clients against moto and fakes on loopback), e2e (real sshd and
// dockerd). The slow tiers run their files one at a time: the machine has
// two cores and they share one moto server and one Docker engine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/moto-global.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // The real Waypoint image is built (or found up to date) once per run.
          globalSetup: ["test/support/moto-global.ts", "test/support/waypoint-global.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
