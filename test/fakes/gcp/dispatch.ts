/**
 * One API request, start to finish, in the order Google's front end works:
 * route (404 if no method has this path) → the API must be enabled in the
 * consumer project (403 SERVICE_DISABLED) → URL parameters and JSON body
 * checked against discovery (400) → injected faults → the method's handler
 * (501 if the fake does not implement it) → the response checked against
 * the method's response schema (500 "fake bug" if it does not fit, so fake
 * bugs surface in the fake's own tests) → logged.
 */
import { checkLocationParams } from "./compute/geo.js";
import { withRequestId } from "./compute/operations.js";
import { GcpError, unimplemented } from "./errors.js";
import { faultError, faultOperation, type FaultRequest, type Faults } from "./faults.js";
import { HANDLERS } from "./handlers.js";
import { checkParams } from "./params-check.js";
import { resourceOf, type RequestLog } from "./request-log.js";
import type { RouteMatch, Router } from "./router.js";
import { checkRequestBody, responseProblem } from "./schema-check.js";
import { SERVICE_OF_API, disabledError } from "./serviceusage.js";
import type { Call, Obj } from "./types.js";
import type { World } from "./world.js";

export interface Dispatcher {
  world: World;
  router: Router;
  faults: Faults;
  log: RequestLog;
  checkResponses: boolean;
}

export interface ApiRequest {
  httpMethod: string;
  url: URL;
  body: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Of several methods sharing a path (the `/v1/operations/*` family), the one whose API made the operation. */
function pick(d: Dispatcher, matches: RouteMatch[]): RouteMatch {
  if (matches.length > 1 && matches.some((m) => m.api !== matches[0].api)) {
    const owner = d.world.lro.ownerOf(matches[0].pathParams.name ?? "");
    const mine = matches.find((m) => m.api === owner);
    if (mine) return mine;
  }
  return matches[0];
}

/** The project a call is "made in" (the consumer Google checks API enablement against). */
function consumerProject(d: Dispatcher, m: RouteMatch, body: unknown): string {
  const p = m.pathParams;
  if (p.project) return d.world.projects.idOf(p.project);
  if (p.projectId) return d.world.projects.idOf(p.projectId);
  for (const v of Object.values(p)) {
    const hit = /^(?:projects|namespaces)\/([^/]+)/.exec(v);
    if (hit && hit[1] !== "-") return d.world.projects.idOf(hit[1]);
  }
  const b = body as Obj | undefined;
  for (const v of [b?.network, b?.consumerNetwork]) {
    const hit = typeof v === "string" ? /^projects\/([^/]+)/.exec(v) : null;
    if (hit) return d.world.projects.idOf(hit[1]);
  }
  return d.world.defaultProject;
}

function parseBody(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GcpError(400, `Invalid JSON payload received. ${e instanceof Error ? e.message : "Unexpected token"}.`);
  }
}

export async function dispatch(d: Dispatcher, req: ApiRequest): Promise<ApiResponse> {
  const w = d.world;
  const started = Date.now();
  const path = req.url.pathname;
  const query: Record<string, string | string[]> = {};
  for (const k of new Set(req.url.searchParams.keys())) {
    const all = req.url.searchParams.getAll(k);
    query[k] = all.length > 1 ? all : all[0];
  }
  let match: RouteMatch | undefined;
  let faultId: number | undefined;
  let status = 200;
  let body: unknown;
  try {
    if (w.latency.requestMs > 0) await w.sleep(w.latency.requestMs);
    w.timeline.settle();
    const matches = d.router.match(req.httpMethod, path);
    if (!matches.length) throw new GcpError(404, `The requested URL ${path} was not found on this server.`, { reason: "notFound" });
    match = pick(d, matches);
    const { api, doc, method } = match;
    const parsed = parseBody(req.body);
    const project = consumerProject(d, match, parsed);
    const service = SERVICE_OF_API[api];
    if (!w.usage.isEnabled(service)) throw disabledError(service, w.projects.numberOf(project));
    const checkedQuery = checkParams(doc, method, match.pathParams, req.url.searchParams);
    if (method.request) {
      checkRequestBody(doc, api, method.id, method.request.$ref, parsed ?? {});
    } else if (parsed !== undefined && !(typeof parsed === "object" && parsed !== null && Object.keys(parsed).length === 0)) {
      const key = typeof parsed === "object" && parsed !== null ? Object.keys(parsed)[0] : String(parsed);
      throw new GcpError(400, `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
    }
    if (api === "compute") checkLocationParams(match.pathParams);
    const call: Call = {
      world: w,
      api,
      doc,
      method,
      methodId: method.id,
      params: match.pathParams,
      query: checkedQuery,
      body: (parsed as Obj | undefined) ?? {},
    };
    const freq: FaultRequest = { api, methodId: method.id, httpMethod: req.httpMethod, path, query, body: parsed, pathParams: match.pathParams };
    const fault = d.faults.take(freq);
    if (fault) {
      faultId = fault.id;
      if (fault.delayMs) await w.sleep(fault.delayMs);
      const err = faultError(fault, freq, w.projects.numberOf(project));
      if (err) throw err;
      call.failOperation = faultOperation(fault);
    }
    let handler = HANDLERS[method.id];
    if (!handler) throw unimplemented(`The GCP fake does not implement ${method.id}.`);
    if (api === "compute" && method.parameters?.requestId) handler = withRequestId(handler);
    body = (await handler(call)) ?? {};
    if (d.checkResponses && method.response) {
      const problem = responseProblem(doc, api, method.response.$ref, body);
      if (problem) throw new GcpError(500, `gcp fake bug: the response of ${method.id} does not fit ${method.response.$ref}: ${problem}`);
    }
  } catch (e) {
    const err = e instanceof GcpError ? e : new GcpError(500, `gcp fake bug: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (!(e instanceof GcpError)) console.error(e);
    status = err.code;
    body = err.toBody();
  }
  d.log.add({
    time: new Date(started).toISOString(),
    httpMethod: req.httpMethod,
    path,
    query,
    api: match?.api,
    methodId: match?.method.id,
    resource: resourceOf(path),
    status,
    error: status >= 400 ? ((body as { error?: { status?: string } }).error?.status ?? undefined) : undefined,
    durationMs: Date.now() - started,
    fault: faultId,
  });
  return { status, body };
}
