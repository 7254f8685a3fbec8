import { defineConfig } from "vitest/config";

// The unit tests that exercise the modules `npm run mutate` mutates
// (stryker.config.json): StrykerJS runs each mutant against the tests that
// cover it, so a narrower set keeps its dry run and each mutant's run short.
export default defineConfig({
  test: {
    include: [
      "test/unit/state/**/*.test.ts",
      "test/unit/engine/**/*.test.ts",
      "test/unit/ui/**/*.test.ts",
      "test/unit/bootstrap/shell-quote.test.ts",
      "test/unit/bootstrap/steps.test.ts",
      "test/unit/providers/**/*.test.ts",
    ],
    environment: "node",
  },
});
