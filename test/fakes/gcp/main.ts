/**
 * `npm run fake:gcp -- --port N [--latency MS] [--project P] [...]`: runs the
 * fake on its own and prints its URL on one line; runs until killed. Drive it
 * through `<url>/__fake/...` (admin-http.ts).
 *
 *   --port N                  port (default: any free one)
 *   --host ADDR               listen address (default 127.0.0.1)
 *   --project P               default project (default pilot-test)
 *   --latency MS              operation delay (default 50)
 *   --real-latency-scale X    Google's typical latencies × X (e.g. 0.01: Cloud SQL 7.5 s)
 *   --latency-for KIND=MS     per method id, api.collection or API (repeatable)
 *   --request-latency MS      added to every API request
 */
import { parseArgs } from "node:util";
import { DiscoveryMissingError, startFakeGcp } from "./index.js";

function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`fake:gcp: --${name} needs a non-negative number, got ${v}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      project: { type: "string" },
      latency: { type: "string" },
      "real-latency-scale": { type: "string" },
      "latency-for": { type: "string", multiple: true },
      "request-latency": { type: "string" },
    },
    strict: true,
  });
  const latency: Record<string, number> = {};
  for (const spec of values["latency-for"] ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(spec);
    if (!m) {
      console.error(`fake:gcp: --latency-for needs KIND=MS (e.g. sqladmin.instances=5000), got ${spec}`);
      process.exit(2);
    }
    latency[m[1]] = Number(m[2]);
  }
  const fake = await startFakeGcp({
    port: number("port", values.port),
    host: values.host,
    project: values.project,
    latencyMs: number("latency", values.latency),
    realLatencyScale: number("real-latency-scale", values["real-latency-scale"]),
    requestLatencyMs: number("request-latency", values["request-latency"]),
    latency,
  });
  console.log(fake.url);
  const stop = (): void => {
    void fake.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  if (e instanceof DiscoveryMissingError) console.error(e.message);
  else console.error("fake:gcp:", e);
  process.exit(1);
});
