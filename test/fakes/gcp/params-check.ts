/**
 * Checks a request's URL parameters against the matched method: every query
 * parameter must be one the method (or the document's top level: `fields`,
 * `prettyPrint`, `alt`, ...) declares; a parameter given twice must be
 * `repeated`; each value must parse as its type/format and be in its enum;
 * `required` ones must be there. compute's simple path parameters carry a
 * `pattern` (a network name, a zone) that compute enforces too.
 */
import type { DiscoveryDocument, DiscoveryMethod, DiscoveryParameter } from "./discovery.js";
import { invalid, required } from "./errors.js";
import { scalarProblem, snakeCase } from "./schema-check.js";

export type QueryValues = Record<string, string | string[]>;

function queryTypeLabel(p: DiscoveryParameter): string {
  if (p.enum) return "TYPE_ENUM";
  if (p.type === "boolean") return "TYPE_BOOL";
  if (p.type === "integer") return p.format === "uint32" ? "TYPE_UINT32" : "TYPE_INT32";
  if (p.type === "number") return p.format === "float" ? "TYPE_FLOAT" : "TYPE_DOUBLE";
  if (p.format === "int64") return "TYPE_INT64";
  if (p.format === "uint64") return "TYPE_UINT64";
  return "TYPE_STRING";
}

/** Whether a query-string value parses as the parameter's type. */
function valueOk(raw: string, p: DiscoveryParameter): boolean {
  if (p.enum) return p.enum.includes(raw);
  switch (p.type) {
    case "boolean":
      return raw === "true" || raw === "false";
    case "integer":
      return /^-?\d+$/.test(raw) && !scalarProblem(Number(raw), p, "request");
    case "number":
      return raw.trim() !== "" && Number.isFinite(Number(raw));
    default:
      return !scalarProblem(raw, p, "request");
  }
}

/** Validates and returns the query as name → value (or values, for repeated parameters). */
export function checkParams(
  doc: DiscoveryDocument,
  method: DiscoveryMethod,
  pathParams: Record<string, string>,
  search: URLSearchParams,
): QueryValues {
  const declared = method.parameters ?? {};
  const out: QueryValues = {};
  const names = [...new Set(search.keys())];
  for (const name of names) {
    const own = declared[name];
    const p = own && own.location === "query" ? own : !own ? doc.parameters[name] : undefined;
    if (!p) {
      throw invalid(
        `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`,
        name,
      );
    }
    const values = search.getAll(name);
    if (values.length > 1 && !p.repeated) {
      throw invalid(
        `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' is not repeated but was given ${values.length} values.`,
        name,
      );
    }
    for (const v of values) {
      if (!valueOk(v, p)) throw invalid(`Invalid value at '${snakeCase(name)}' (${queryTypeLabel(p)}), "${v}"`, name);
    }
    out[name] = p.repeated ? values : values[0];
  }
  for (const [name, p] of Object.entries(declared)) {
    if (p.location === "query" && p.required && !(name in out)) {
      throw required(`Required field '${name}' not specified`, name);
    }
    if (p.location === "path") {
      const v = pathParams[name];
      if (p.required && (v === undefined || v === "")) throw required(`Required field '${name}' not specified`, name);
      if (v !== undefined && p.pattern && !p.pattern.startsWith("^") && !new RegExp(`^(?:${p.pattern})$`).test(v)) {
        throw invalid(`Invalid value for field '${name}': '${v}'. Must be a match of regex '${p.pattern}'`, name);
      }
      if (v !== undefined && p.format && !valueOk(v, p)) {
        throw invalid(`Invalid value at '${snakeCase(name)}' (${queryTypeLabel(p)}), "${v}"`, name);
      }
    }
  }
  return out;
}
