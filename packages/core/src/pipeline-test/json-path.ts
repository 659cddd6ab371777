import { query } from "jsonpath-rfc9535";
import parse from "jsonpath-rfc9535/parser";

/**
 * A JSONPath (RFC 9535) of a test expectation, parsed once: jsonpath-rfc9535 passes the whole
 * JSONPath compliance suite and has no dependencies, so expectations get the standard language
 * (filters, slices, functions included) instead of a home-made subset.
 */
export interface JsonPath {
  text: string;
  /** True when the path can select at most one value (RFC 9535's singular query: names and indexes only). */
  singular: boolean;
}

type Segment = ReturnType<typeof parse>["segments"][number];

export function parseJsonPath(text: string): JsonPath {
  let segments: Segment[];
  try {
    segments = parse(text).segments;
  } catch (error) {
    throw new Error(`JSONPath "${text}" is not valid RFC 9535 JSONPath: ${(error as Error).message}`);
  }
  return { text, singular: segments.every(isSingular) };
}

/** The values the path selects in `root`, in document order. */
export function selectJsonPath(path: JsonPath, root: unknown): unknown[] {
  return query(root as Parameters<typeof query>[0], path.text);
}

function isSingular(segment: Segment): boolean {
  if (segment.type !== "ChildSegment") return false;
  const { node } = segment;
  if (node.type === "MemberNameShorthand") return true;
  if (node.type !== "BracketedSelection" || node.selectors.length !== 1) return false;
  const [selector] = node.selectors;
  return selector?.type === "NameSelector" || selector?.type === "IndexSelector";
}
