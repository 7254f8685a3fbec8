/**
 * google.longrunning operations, as Service Networking, Serverless VPC Access
 * and Service Usage return them: `{name, metadata?}` at first (Google leaves
 * out `done` while it is false),
 * then `done:true` with `response` (the result, with its `@type`) or `error`
 * (a google.rpc.Status). The store also remembers which API made each
 * operation, which is how the dispatcher tells `GET /v1/operations/x` of
 * servicenetworking from serviceusage's (they share the path).
 */
import type { ApiName } from "./discovery.js";
import { GcpError, notFound } from "./errors.js";
import { operationDelay } from "./latency.js";
import type { Call, Obj } from "./types.js";
import { clone } from "./types.js";

export interface Lro {
  api: ApiName;
  name: string;
  done: boolean;
  doneAt: number;
  metadata?: Obj;
  response?: Obj;
  error?: { code: number; message: string; details?: unknown[] };
}

export interface LroSpec {
  name: string;
  /** Latency kind, e.g. "servicenetworking.connections". */
  kind: string;
  metadata?: Obj;
  /** Does the work when the operation finishes; returns the response, or throws GcpError to fail it. */
  finish: () => Obj;
  /** Undoes what the call did up front when the operation fails. */
  onFail?: () => void;
}

export class LroStore {
  readonly ops = new Map<string, Lro>();

  start(call: Call, spec: LroSpec): Obj {
    const w = call.world;
    const op: Lro = {
      api: call.api,
      name: spec.name,
      done: false,
      doneAt: w.now() + operationDelay(w.latency, call.methodId, spec.kind),
      metadata: spec.metadata,
    };
    this.ops.set(op.name, op);
    w.timeline.at(op.doneAt, () => {
      try {
        if (call.failOperation) throw new GcpError(call.failOperation.httpStatus, call.failOperation.message);
        op.response = spec.finish();
      } catch (e) {
        if (!(e instanceof GcpError)) throw e;
        op.error = e.toStatus();
        spec.onFail?.();
      }
      op.done = true;
    });
    return renderLro(op);
  }

  /** The operation, if `api` made it; 404 otherwise. */
  get(api: ApiName, name: string): Obj {
    const op = this.ops.get(name);
    if (!op || op.api !== api) throw notFound(`Operation '${name}' not found.`);
    return renderLro(op);
  }

  ownerOf(name: string): ApiName | undefined {
    return this.ops.get(name)?.api;
  }
}

export function renderLro(op: Lro): Obj {
  const out: Obj = { name: op.name };
  if (op.metadata) out.metadata = clone(op.metadata);
  if (op.done) out.done = true; // proto3 JSON leaves out a false `done`, as Google does
  if (op.done && op.error) out.error = clone(op.error);
  else if (op.done) out.response = clone(op.response ?? { "@type": "type.googleapis.com/google.protobuf.Empty" });
  return out;
}
