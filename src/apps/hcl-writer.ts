/**
 * A very small HCL writer: blocks, attributes (strings, numbers, booleans,
 * lists of strings, string maps, and a few expressions Pilot itself spells)
 * and comments, laid out as `waypoint fmt` would (two-space indent, `=`
 * aligned within a run of attributes). Values are always escaped here, so a
 * name taken from a flag or from state can never break out of its string or
 * start an HCL template.
 */

/**
 * An expression written as it is (`map(string)`, `var.pilot_secrets_web`): only
 * for text Pilot composes from constants and checked names, never a user's value.
 */
export interface HclExpression {
  expr: string;
}

export type HclValue = string | number | boolean | string[] | { map: Record<string, string> } | HclExpression;

export type HclItem =
  | { kind: "attr"; name: string; value: HclValue }
  | { kind: "block"; type: string; labels: string[]; body: HclItem[] }
  | { kind: "comment"; text: string }
  | { kind: "blank" };

export const attr = (name: string, value: HclValue): HclItem => ({ kind: "attr", name, value });
export const block = (type: string, labels: string[], body: HclItem[]): HclItem => ({ kind: "block", type, labels, body });
export const comment = (text: string): HclItem => ({ kind: "comment", text });
export const blank: HclItem = { kind: "blank" };

/** A reference or type expression; refuses anything but identifiers, dots and one level of parentheses. */
export function expr(text: string): HclExpression {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*(\([A-Za-z_][A-Za-z0-9_]*\))?$/.test(text)) throw new Error(`not a plain HCL expression: ${text}`); // a programming error
  return { expr: text };
}

/** A quoted HCL string: JSON's escapes are HCL's, plus `${` and `%{`, which HCL would read as templates. */
export function hclString(s: string): string {
  // Function replacements: in a replacement string "$$" would itself mean one "$".
  return JSON.stringify(s).replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** Map keys are identifiers when they can be (SSL_CERT_FILE), quoted otherwise. */
function hclKey(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : hclString(k);
}

function renderValue(v: HclValue, indent: string): string {
  if (typeof v === "string") return hclString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(hclString).join(", ")}]`;
  if ("expr" in v) return v.expr;
  const keys = Object.keys(v.map);
  if (keys.length === 0) return "{}";
  const w = Math.max(...keys.map((k) => hclKey(k).length));
  const inner = keys.map((k) => `${indent}  ${hclKey(k).padEnd(w)} = ${hclString(v.map[k]!)}`);
  return `{\n${inner.join("\n")}\n${indent}}`;
}

function isMultiLine(item: HclItem): boolean {
  return item.kind === "attr" && typeof item.value === "object" && "map" in item.value && Object.keys(item.value.map).length > 0;
}

function renderItems(items: HclItem[], indent: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.kind === "blank") out.push("");
    else if (item.kind === "comment") out.push(...item.text.split("\n").map((l) => `${indent}#${l ? ` ${l}` : ""}`));
    else if (item.kind === "block") {
      const head = [item.type, ...item.labels.map(hclString)].join(" ");
      out.push(item.body.length === 0 ? `${indent}${head} {}` : `${indent}${head} {`, ...(item.body.length ? [...renderItems(item.body, `${indent}  `), `${indent}}`] : []));
    } else {
      // A run of one-line attributes shares one `=` column, as `waypoint fmt` lays them out;
      // a value spanning lines (a map) stands alone.
      let end = i;
      if (!isMultiLine(item)) while (end + 1 < items.length && items[end + 1]!.kind === "attr" && !isMultiLine(items[end + 1]!)) end++;
      const run = items.slice(i, end + 1) as Extract<HclItem, { kind: "attr" }>[];
      const w = Math.max(...run.map((a) => a.name.length));
      for (const a of run) out.push(`${indent}${a.name.padEnd(w)} = ${renderValue(a.value, indent)}`);
      i = end;
    }
  }
  return out;
}

/** The document's text, ending in one newline. */
export function renderHcl(items: HclItem[]): string {
  return renderItems(items, "").join("\n") + "\n";
}
