// Preload (node --import) that records every module URL the process loads
// into the file named by $PILOT_TRACE_IMPORTS, so tests can prove that
// `pilot --help` never loads a cloud SDK.
import { register } from "node:module";
import { appendFileSync } from "node:fs";
import { MessageChannel } from "node:worker_threads";

const out = process.env.PILOT_TRACE_IMPORTS;
const { port1, port2 } = new MessageChannel();
port1.on("message", (url) => appendFileSync(out, url + "\n"));
port1.unref();
register(
  "data:text/javascript," +
    encodeURIComponent(
      "let port; export function initialize(d) { port = d.port; }" +
        "export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }",
    ),
  { data: { port: port2 }, transferList: [port2] },
);
