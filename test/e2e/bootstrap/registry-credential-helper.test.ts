/**
 * The Docker credential helper a GCP stack's runner pushes to Artifact
 * Registry with (src/bootstrap/steps/registry-credentials.ts), run INSIDE the
 * real Waypoint image as the runner runs it (root, mounted on its PATH), so
 * the test proves the image has every tool the script uses. A fake GCE
 * metadata server on loopback (GCE_METADATA_HOST, as Google's client
 * libraries honour it) stands in for 169.254.169.254; the container shares
 * the host's network to reach it.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GCE_CREDENTIAL_HELPER_SCRIPT, GCE_HELPER_BINARY } from "../../../src/bootstrap/steps/registry-credentials.js";
import { requireDocker } from "../../support/docker.js";
import { freePort } from "../../support/moto.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token";
const REGISTRY = "europe-west1-docker.pkg.dev";

let image: string;
let dir: string;
let helperPath: string;
let metadata: Server;
let metadataPort: number;
/** What the fake answers next, and what it was asked. */
let answer: { status: number; body: string };
let asked: { url?: string; flavor?: string | string[] }[];

beforeAll(async () => {
  requireDocker();
  image = realWaypointImage();
  dir = mkdtempSync(join(tmpdir(), "pilot-credhelper-"));
  helperPath = join(dir, GCE_HELPER_BINARY);
  writeFileSync(helperPath, GCE_CREDENTIAL_HELPER_SCRIPT);
  chmodSync(dir, 0o755);
  chmodSync(helperPath, 0o755);
  // The real metadata server refuses a request without Metadata-Flavor: Google (403), and so does this one.
  metadata = createServer((req: IncomingMessage, res) => {
    asked.push({ url: req.url, flavor: req.headers["metadata-flavor"] });
    if (req.headers["metadata-flavor"] !== "Google") {
      res.writeHead(403, { "content-type": "text/plain" }).end("Missing Metadata-Flavor:Google header.");
      return;
    }
    if (req.url !== TOKEN_PATH) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(answer.status, { "content-type": "application/json", "metadata-flavor": "Google" }).end(answer.body);
  });
  await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
  metadataPort = (metadata.address() as AddressInfo).port;
}, 45 * 60_000);

afterAll(async () => {
  await new Promise((resolve) => metadata?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  answer = { status: 200, body: JSON.stringify({ access_token: "ya29.c.b0Aaek-TEST_token.123", expires_in: 3599, token_type: "Bearer" }) };
  asked = [];
});

/**
 * `docker-credential-pilot-gce ACTION` in the image, as the runner finds it
 * (on PATH at /usr/local/bin, as root), the registry's address on stdin.
 * Asynchronous: the fake answers from this process while it runs.
 */
function runHelper(action: string, metadataHost: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", [
      "run", "--rm", "-i", "--network", "host", "--user", "root",
      "-v", `${helperPath}:/usr/local/bin/${GCE_HELPER_BINARY}:ro`,
      "-e", `GCE_METADATA_HOST=${metadataHost}`,
      "--entrypoint", GCE_HELPER_BINARY,
      image, action,
    ]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(`${REGISTRY}\n`);
  });
}

describe(`${GCE_HELPER_BINARY} in the real Waypoint image`, () => {
  it("get: asks the metadata server with Metadata-Flavor: Google and prints the token as Docker's helper protocol wants it", async () => {
    const r = await runHelper("get", `127.0.0.1:${metadataPort}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('{"Username":"oauth2accesstoken","Secret":"ya29.c.b0Aaek-TEST_token.123"}\n');
    expect(JSON.parse(r.stdout)).toEqual({ Username: "oauth2accesstoken", Secret: "ya29.c.b0Aaek-TEST_token.123" });
    expect(asked).toEqual([{ url: TOKEN_PATH, flavor: "Google" }]);
  });

  it("get: the metadata server unreachable → non-zero exit, nothing on stdout, the reason on stderr", async () => {
    const closed = await freePort();
    const r = await runHelper("get", `127.0.0.1:${closed}`);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${GCE_HELPER_BINARY}: no access token from the GCE metadata server at http://127.0.0.1:${closed}${TOKEN_PATH}`);
    expect(r.stderr).toContain("is this a GCE VM with a service account?");
  });

  it("get: an error answer (no service account: 404) → non-zero exit, nothing on stdout", async () => {
    answer = { status: 404, body: "not found" };
    const r = await runHelper("get", `127.0.0.1:${metadataPort}`);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/no access token from the GCE metadata server at .*404/);
  });

  it("get: an answer without a usable access_token (missing, or one that would break the JSON) → refused", async () => {
    for (const body of [JSON.stringify({ error: "nope" }), '{"access_token":"ab\\"cd","expires_in":1}', '{"access_token":"","expires_in":1}']) {
      answer = { status: 200, body };
      const r = await runHelper("get", `127.0.0.1:${metadataPort}`);
      expect(r.code, body).not.toBe(0);
      expect(r.stdout, body).toBe("");
      expect(r.stderr, body).toContain("answered without a usable access_token");
    }
  });

  it("list answers {} and store is refused: the credentials are the VM's own", async () => {
    expect(await runHelper("list", `127.0.0.1:${metadataPort}`)).toMatchObject({ code: 0, stdout: "{}\n" });
    const store = await runHelper("store", `127.0.0.1:${metadataPort}`);
    expect(store.code).not.toBe(0);
    expect(store.stdout).toBe("");
    expect(store.stderr).toContain("store is not supported");
    expect(asked).toEqual([]);
  });
});
