/**
 * List plumbing shared by the APIs: compute-style `filter` expressions
 * (`labels.pilot-stack = "x"`, `name != foo`, `(a = b) OR (c eq d.*)`,
 * `labels.k:*`; the Cloud SQL `settings.userLabels.k:v` form too), and
 * `maxResults`/`pageSize` + `pageToken` paging. A provider that finds
 * orphans by label uses exactly this, so it is modelled rather than ignored.
 */
import { invalid } from "./errors.js";
import type { Obj } from "./types.js";

type Node =
  | { kind: "and" | "or"; left: Node; right: Node }
  | { kind: "not"; inner: Node }
  | { kind: "cmp"; field: string; op: string; value: string };

function tokenize(s: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push(c);
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let out = "";
      while (j < s.length && s[j] !== c) {
        if (s[j] === "\\" && j + 1 < s.length) j++;
        out += s[j++];
      }
      if (j >= s.length) throw new Error("unterminated string");
      tokens.push(`"${out}`); // leading quote marks a literal
      i = j + 1;
    } else if (s.startsWith("!=", i)) {
      tokens.push("!=");
      i += 2;
    } else if (c === "=" || c === ":") {
      tokens.push(c);
      i++;
    } else {
      let j = i;
      while (j < s.length && !/[\s()=:!"']/.test(s[j])) j++;
      if (j === i) throw new Error(`unexpected ${c}`);
      tokens.push(s.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function parse(tokens: string[]): Node {
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const literal = (t: string | undefined): string => {
    if (t === undefined) throw new Error("value expected");
    return t.startsWith('"') ? t.slice(1) : t;
  };
  const primary = (): Node => {
    const t = peek();
    if (t === "(") {
      pos++;
      const n = orExpr();
      if (tokens[pos++] !== ")") throw new Error(") expected");
      return n;
    }
    if (t === "NOT" || t === "-") {
      pos++;
      return { kind: "not", inner: primary() };
    }
    const field = literal(tokens[pos++]);
    const op = tokens[pos++];
    if (!op || !["=", "!=", ":", "eq", "ne"].includes(op)) throw new Error("operator expected");
    return { kind: "cmp", field, op, value: literal(tokens[pos++]) };
  };
  const andExpr = (): Node => {
    let left = primary();
    while (pos < tokens.length && peek() !== ")" && peek() !== "OR") {
      if (peek() === "AND") pos++;
      left = { kind: "and", left, right: primary() };
    }
    return left;
  };
  const orExpr = (): Node => {
    let left = andExpr();
    while (peek() === "OR") {
      pos++;
      left = { kind: "or", left, right: andExpr() };
    }
    return left;
  };
  const n = orExpr();
  if (pos !== tokens.length) throw new Error("trailing input");
  return n;
}

function fieldValue(obj: Obj, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Obj)[part];
  }
  return cur;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

function evaluate(n: Node, obj: Obj): boolean {
  switch (n.kind) {
    case "and":
      return evaluate(n.left, obj) && evaluate(n.right, obj);
    case "or":
      return evaluate(n.left, obj) || evaluate(n.right, obj);
    case "not":
      return !evaluate(n.inner, obj);
    case "cmp": {
      const v = fieldValue(obj, n.field);
      const s = v === undefined || v === null ? undefined : typeof v === "object" ? JSON.stringify(v) : String(v);
      switch (n.op) {
        case ":":
          if (n.value === "*") return s !== undefined;
          return s !== undefined && glob(n.value).test(s);
        case "=":
          return s !== undefined && glob(n.value).test(s);
        case "!=":
          return s === undefined || !glob(n.value).test(s);
        case "eq":
          return s !== undefined && new RegExp(`^(?:${n.value})$`).test(s);
        case "ne":
          return s === undefined || !new RegExp(`^(?:${n.value})$`).test(s);
        default:
          return false;
      }
    }
  }
}

/** Keeps the items matching `filter` (all when empty); 400 on an expression it cannot parse. */
export function applyFilter<T extends Obj>(items: T[], filter: string | undefined): T[] {
  if (!filter || !filter.trim()) return items;
  let node: Node;
  try {
    node = parse(tokenize(filter));
  } catch {
    throw invalid(`Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`, "filter");
  }
  return items.filter((i) => evaluate(node, i));
}

/** One page of `items`: the page token is the offset, as an opaque-looking string. */
export function paginate<T>(items: T[], max: string | undefined, token: string | undefined, defaultMax = 500): { page: T[]; nextPageToken?: string } {
  const limit = Math.max(1, Math.min(Number(max ?? defaultMax) || defaultMax, defaultMax));
  let start = 0;
  if (token) {
    const decoded = Number(Buffer.from(token, "base64url").toString("utf8").replace(/^offset:/, ""));
    if (!Number.isInteger(decoded) || decoded < 0) throw invalid(`Invalid value for field 'pageToken': '${token}'.`, "pageToken");
    start = decoded;
  }
  const page = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(`offset:${start + limit}`).toString("base64url") : undefined;
  return next ? { page, nextPageToken: next } : { page };
}
