/**
 * The part of JSONPath (RFC 9535) that test expectations need: `$`, member names (`.name`,
 * `['name']`, `["name"]`), array indexes (`[0]`, `[-1]` from the end), wildcards (`.*`, `[*]`) and
 * descendants (`..name`). No filters or slices. No JSONPath library is among the project's
 * dependencies; this subset is small enough to keep here, and anything outside it is refused with
 * the position, never misread.
 */
export interface JsonPath {
  text: string;
  segments: Segment[];
  /** True when the path can select at most one value (no wildcard, no descendants). */
  singular: boolean;
}

type Selector = { kind: "name"; name: string } | { kind: "index"; index: number } | { kind: "wildcard" };
interface Segment {
  descendants: boolean;
  selector: Selector;
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

export function parseJsonPath(text: string): JsonPath {
  if (!text.startsWith("$")) throw new Error(`JSONPath "${text}" must start with "$"`);
  const segments: Segment[] = [];
  let at = 1;
  const fail = (what: string): never => {
    throw new Error(`JSONPath "${text}": ${what} at position ${at + 1}`);
  };
  while (at < text.length) {
    let descendants = false;
    if (text.startsWith("..", at)) {
      descendants = true;
      at += 2;
    } else if (text[at] === ".") at += 1;
    else if (text[at] !== "[") fail(`expected "." or "[" but found "${text[at]}"`);
    if (text[at] === "*") {
      segments.push({ descendants, selector: { kind: "wildcard" } });
      at += 1;
    } else if (text[at] === "[") {
      const close = text.indexOf("]", at);
      if (close < 0) fail('"[" without "]"');
      segments.push({ descendants, selector: bracketSelector(text.slice(at + 1, close).trim(), fail) });
      at = close + 1;
    } else {
      const name = NAME.exec(text.slice(at))?.[0];
      if (!name) fail("expected a member name");
      segments.push({ descendants, selector: { kind: "name", name: name as string } });
      at += (name as string).length;
    }
  }
  const singular = segments.every((s) => !s.descendants && s.selector.kind !== "wildcard");
  return { text, segments, singular };
}

/** The values the path selects in `root`, in document order. */
export function selectJsonPath(path: JsonPath, root: unknown): unknown[] {
  let nodes = [root];
  for (const segment of path.segments) {
    const from = segment.descendants ? nodes.flatMap(selfAndDescendants) : nodes;
    nodes = from.flatMap((node) => select(segment.selector, node));
  }
  return nodes;
}

function bracketSelector(inner: string, fail: (what: string) => never): Selector {
  if (inner === "*") return { kind: "wildcard" };
  if (/^-?\d+$/.test(inner)) return { kind: "index", index: Number(inner) };
  const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(inner);
  if (quoted) return { kind: "name", name: (quoted[1] ?? quoted[2]) as string };
  return fail(`"[${inner}]" is not an index, a quoted name or * (filters and slices are not supported)`);
}

function select(selector: Selector, node: unknown): unknown[] {
  if (selector.kind === "wildcard") {
    if (Array.isArray(node)) return node;
    return isObject(node) ? Object.values(node) : [];
  }
  if (selector.kind === "index") {
    if (!Array.isArray(node)) return [];
    const index = selector.index < 0 ? node.length + selector.index : selector.index;
    return index >= 0 && index < node.length ? [node[index]] : [];
  }
  return isObject(node) && Object.hasOwn(node, selector.name) ? [node[selector.name]] : [];
}

function selfAndDescendants(node: unknown): unknown[] {
  const children = Array.isArray(node) ? node : isObject(node) ? Object.values(node) : [];
  return [node, ...children.flatMap(selfAndDescendants)];
}

function isObject(node: unknown): node is Record<string, unknown> {
  return typeof node === "object" && node !== null && !Array.isArray(node);
}
