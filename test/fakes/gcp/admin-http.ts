/**
 * The control API over HTTP, under /__fake/ (JSON in and out), so a fake
 * started with `npm run fake:gcp` can be driven from another process:
 *
 *   GET    /__fake/health                      {ok, project, projectNumber}
 *   POST   /__fake/reset
 *   GET    /__fake/requests?methodId=&api=&since=   DELETE /__fake/requests
 *   GET    /__fake/inventory?api=&collection=&label=k=v (repeatable)
 *   GET    /__fake/faults      POST /__fake/faults {method|path, times, error, message, delayMs, failOperation} → {id}
 *   DELETE /__fake/faults      DELETE /__fake/faults/<id>
 *   POST   /__fake/apis/disable {service}      POST /__fake/apis/enable {service}
 *   PUT    /__fake/guest-attributes {instance?, keys}   DELETE /__fake/guest-attributes {instance?}
 *   PUT    /__fake/newest-image {name, project?, family?}
 *   POST   /__fake/refuse-connection-delete {count, mode?}
 *   GET    /__fake/latency     PUT /__fake/latency {defaultMs?, overrides?, requestMs?, realLatencyScale?}
 */
import type { FakeGcpControl } from "./control.js";
import type { FaultSpec } from "./faults.js";
import type { Obj } from "./types.js";

export interface AdminResponse {
  status: number;
  body: unknown;
}

function bad(message: string): AdminResponse {
  return { status: 400, body: { error: { code: 400, message, status: "INVALID_ARGUMENT" } } };
}

export function handleAdmin(control: FakeGcpControl, method: string, url: URL, text: string): AdminResponse {
  let body: Obj = {};
  if (text.trim()) {
    try {
      body = JSON.parse(text) as Obj;
    } catch {
      return bad("body is not JSON");
    }
  }
  const route = url.pathname.replace(/^\/__fake\/?/, "").replace(/\/$/, "");
  const q = url.searchParams;
  const ok = (b: unknown = { ok: true }): AdminResponse => ({ status: 200, body: b });
  switch (`${method} ${route.replace(/^faults\/\d+$/, "faults/:id")}`) {
    case "GET health":
      return ok({ ok: true, project: control.project, projectNumber: control.projectNumber() });
    case "POST reset":
      control.reset();
      return ok();
    case "GET requests":
      return ok({
        requests: control.requests({
          methodId: q.get("methodId") ?? undefined,
          api: (q.get("api") ?? undefined) as never,
          since: q.get("since") ? Number(q.get("since")) : undefined,
        }),
      });
    case "DELETE requests":
      control.clearRequests();
      return ok();
    case "GET inventory": {
      const labels: Record<string, string> = {};
      for (const l of q.getAll("label")) {
        const i = l.indexOf("=");
        if (i < 1) return bad(`label must be key=value: ${l}`);
        labels[l.slice(0, i)] = l.slice(i + 1);
      }
      return ok({ resources: control.inventory({ api: (q.get("api") ?? undefined) as never, collection: q.get("collection") ?? undefined, labels }) });
    }
    case "GET faults":
      return ok({ faults: control.faults.list() });
    case "POST faults": {
      const spec = body as FaultSpec;
      if (!spec.method && !spec.path) return bad("a fault needs `method` or `path`");
      if (spec.error === undefined && !spec.delayMs && !spec.failOperation) return bad("a fault needs `error`, `delayMs` or `failOperation`");
      const times = spec.times === undefined ? 1 : spec.times === null || spec.times <= 0 ? Infinity : spec.times;
      return ok({ id: control.faults.add({ ...spec, match: undefined, times }) });
    }
    case "DELETE faults":
      control.faults.clear();
      return ok();
    case "DELETE faults/:id":
      control.faults.remove(Number(route.split("/")[1]));
      return ok();
    case "POST apis/disable":
      if (!body.service) return bad("`service` is required, e.g. sqladmin.googleapis.com");
      control.disableApi(String(body.service));
      return ok();
    case "POST apis/enable":
      if (!body.service) return bad("`service` is required, e.g. sqladmin.googleapis.com");
      control.enableApi(String(body.service));
      return ok();
    case "PUT guest-attributes":
      if (!body.keys || typeof body.keys !== "object") return bad("`keys` is required: {\"ssh-ed25519\": \"AAAA...\"} or [{key, value}]");
      control.setGuestHostKeys(body.keys, body.instance);
      return ok();
    case "DELETE guest-attributes":
      control.setGuestHostKeys([], body.instance ?? q.get("instance") ?? undefined);
      return ok();
    case "PUT newest-image":
      if (!body.name) return bad("`name` is required");
      return ok({ image: control.setNewestImage(String(body.name), { project: body.project, family: body.family }) });
    case "POST refuse-connection-delete":
      if (typeof body.count !== "number") return bad("`count` (a number) is required");
      control.refuseConnectionDelete(body.count, body.mode);
      return ok();
    case "GET latency":
      return ok(control.latency());
    case "PUT latency":
      return ok(control.setLatency(body));
    default:
      return { status: 404, body: { error: { code: 404, message: `no control route ${method} /__fake/${route}`, status: "NOT_FOUND" } } };
  }
}
