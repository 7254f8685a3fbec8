import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalExecutor } from "../../../src/bootstrap/executor-local.js";

describe("LocalExecutor", () => {
  const exec = new LocalExecutor();

  it("runs argv without a shell, passing stdin and returning code and output", async () => {
    expect(await exec.run(["sh", "-c", 'read -r x; echo "got $x"; echo err >&2; exit 3'], { stdin: "$(id)\n" })).toEqual({
      code: 3,
      stdout: "got $(id)\n",
      stderr: "err\n",
    });
    expect((await exec.run(["echo", "$HOME", "`id`"])).stdout).toBe("$HOME `id`\n");
  });

  it("reports a missing program as 127 and a timeout as 124", async () => {
    expect((await exec.run(["pilot-no-such-program-xyz"])).code).toBe(127);
    expect((await exec.run(["sleep", "5"], { timeoutMs: 100 })).code).toBe(124);
  });

  it("uploads with the requested mode, creating folders", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pilot-local-"));
    try {
      const p = join(dir, "a", "b", "key.pem");
      await exec.upload(p, "secret", 0o600);
      await exec.upload(p, "secret2", 0o644);
      expect(readFileSync(p, "utf8")).toBe("secret2");
      expect(statSync(p).mode & 0o777).toBe(0o644);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("LocalExecutor stdin", () => {
  it("gives a command stdin that can be opened by path, as `docker run --env-file /dev/stdin` does", async () => {
    const exec = new LocalExecutor();
    const r = await exec.run(["sh", "-c", "cat /dev/stdin"], { stdin: "SECRET=1\n" });
    expect(r).toMatchObject({ code: 0, stdout: "SECRET=1\n" });
  });
});
