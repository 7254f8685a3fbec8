/**
 * Finds which discovery method a request is. googleapis drops the path
 * prefix of `rootUrl`, so every API arrives on this one server with its real
 * Google path (`/compute/v1/...` for compute, `/v1/...` for the others, and
 * `/apis/serving.knative.dev/v1/...` for Cloud Run's Knative-shaped v1); the
 * router matches the HTTP method and path against every method's
 * `servicePath + path` template. `{x}` takes one segment; `{+x}` (reserved
 * expansion) takes several and must then match the parameter's `pattern`,
 * which is what tells `v1/{+name}` of one collection from another's.
 *
 * Several methods of different APIs can share a template (servicenetworking,
 * serviceusage and cloudresourcemanager all have `GET /v1/operations/{id}`):
 * the router returns every candidate, most specific first, and the caller
 * picks by who owns the operation.
 */
import {
  allMethods,
  API_NAMES,
  loadDiscovery,
  type ApiName,
  type DiscoveryDocument,
  type DiscoveryMethod,
} from "./discovery.js";

export interface RouteMatch {
  api: ApiName;
  doc: DiscoveryDocument;
  method: DiscoveryMethod;
  /** Path parameters, percent-decoded. */
  pathParams: Record<string, string>;
}

interface CompiledRoute {
  api: ApiName;
  doc: DiscoveryDocument;
  method: DiscoveryMethod;
  regex: RegExp;
  names: string[];
  /** For `{+x}` parameters: the pattern the value must match to route here. */
  reservedPatterns: (RegExp | undefined)[];
  literalLength: number;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compile(api: ApiName, doc: DiscoveryDocument, method: DiscoveryMethod): CompiledRoute {
  const template = `/${doc.servicePath}${method.path}`;
  const names: string[] = [];
  const reservedPatterns: (RegExp | undefined)[] = [];
  let regex = "^";
  let literalLength = 0;
  let last = 0;
  for (const m of template.matchAll(/\{(\+?)([^}]+)\}/g)) {
    const literal = template.slice(last, m.index);
    regex += escapeRegex(literal);
    literalLength += literal.length;
    const reserved = m[1] === "+";
    const name = m[2];
    names.push(name);
    regex += reserved ? "(.+)" : "([^/]+)";
    const pattern = method.parameters?.[name]?.pattern;
    reservedPatterns.push(reserved && pattern ? new RegExp(pattern) : undefined);
    last = m.index + m[0].length;
  }
  const tail = template.slice(last);
  regex += escapeRegex(tail) + "$";
  literalLength += tail.length;
  return { api, doc, method, regex: new RegExp(regex), names, reservedPatterns, literalLength };
}

/** The two groups of documents, by the path prefix their requests carry. */
type Group = "compute" | "v1";

export class Router {
  private readonly groups = new Map<Group, CompiledRoute[]>();

  constructor(private readonly dir: string) {}

  private routes(group: Group): CompiledRoute[] {
    let routes = this.groups.get(group);
    if (!routes) {
      const apis = API_NAMES.filter((a) => (group === "compute" ? a === "compute" : a !== "compute"));
      routes = [];
      for (const api of apis) {
        const doc = loadDiscovery(api, this.dir);
        for (const method of allMethods(doc)) routes.push(compile(api, doc, method));
      }
      this.groups.set(group, routes);
    }
    return routes;
  }

  /** Loads the documents now (startFakeGcp does, so a missing install fails at start, not mid-test). */
  warm(): void {
    this.routes("compute");
    this.routes("v1");
  }

  /** Every method this request could be, most specific first; empty when none. */
  match(httpMethod: string, pathname: string): RouteMatch[] {
    const group: Group | undefined = pathname.startsWith("/compute/v1/")
      ? "compute"
      : pathname.startsWith("/v1/") || pathname.startsWith("/apis/")
        ? "v1"
        : undefined;
    if (!group) return [];
    const found: { route: CompiledRoute; params: Record<string, string> }[] = [];
    for (const route of this.routes(group)) {
      if (route.method.httpMethod !== httpMethod) continue;
      const m = route.regex.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      let ok = true;
      route.names.forEach((name, i) => {
        let value: string;
        try {
          value = decodeURIComponent(m[i + 1]);
        } catch {
          ok = false;
          return;
        }
        const pattern = route.reservedPatterns[i];
        if (pattern && !pattern.test(value)) ok = false;
        params[name] = value;
      });
      if (ok) found.push({ route, params });
    }
    found.sort((a, b) => b.route.literalLength - a.route.literalLength || a.route.names.length - b.route.names.length);
    return found.map(({ route, params }) => ({ api: route.api, doc: route.doc, method: route.method, pathParams: params }));
  }

  /** Whether some method has this path under another HTTP method (still a 404 at Google, but worth saying). */
  methodsFor(pathname: string): string[] {
    const out = new Set<string>();
    for (const verb of ["GET", "POST", "PUT", "PATCH", "DELETE"]) if (this.match(verb, pathname).length) out.add(verb);
    return [...out];
  }
}
