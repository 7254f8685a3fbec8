import { defineCommand } from "citty";
import { mkdirSync } from "node:fs";
import { commonArgs } from "./shared-args.js";
import { buildContext } from "./context.js";
import { checkPrerequisites } from "./prerequisites.js";

export default defineCommand({
  meta: { name: "init", description: "Create $PILOT_HOME and check local prerequisites" },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = buildContext("init", args);
    mkdirSync(ctx.home, { recursive: true, mode: 0o700 });
    const checks = await checkPrerequisites(ctx.env);
    ctx.ui.result(
      { ok: true, home: ctx.home, checks },
      [`Pilot home: ${ctx.home}`, ...checks.map((c) => `  ${c.ok ? "✓" : "·"} ${c.name}: ${c.detail}`)],
    );
    ctx.ui.close();
  },
});
