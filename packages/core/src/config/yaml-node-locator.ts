import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
} from "yaml";
import { parseJsonPointer } from "./json-pointer";
import { locationAtOffset, type SourceLocation } from "./source-location";

/** Where a JSON Pointer lands in the YAML text. */
export interface LocatedNode {
  location: SourceLocation;
  /** False when the pointer goes deeper than the file does; the location is then the deepest node that exists. */
  exact: boolean;
}

/**
 * Maps JSON Pointers into the parsed data (as ajv and services report them) back to YAML
 * positions, using the node ranges the yaml Document keeps.
 */
export class YamlNodeLocator {
  constructor(
    readonly file: string,
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /**
   * `part: "key"` points at the key of the last step (for "unknown field" problems);
   * otherwise values are located where they are written, except block mappings and lists, which
   * are located at the key that owns them.
   */
  locate(pointer: string | readonly string[], part: "value" | "key" = "value"): LocatedNode {
    const { node, pair, exact } = this.walk(pointer);
    const keyNode = pair?.key;
    // A block collection starts on the line below its key, so the key is the clearer place to
    // point at; so is an alias. Scalars and flow collections (`[a, b]`) sit right after their key.
    const preferKey = part === "key" || !(isScalar(node) || (isCollection(node) && node.flow === true));
    const target = preferKey && isNodeWithRange(keyNode) ? keyNode : node;
    const offset = isNodeWithRange(target)
      ? target.range[0]
      : isNodeWithRange(keyNode)
        ? keyNode.range[0]
        : 0;
    return { location: locationAtOffset(this.file, this.lineCounter, offset), exact };
  }

  /** The YAML node a pointer lands on, if the file goes that deep. */
  nodeAt(pointer: string | readonly string[]): unknown {
    const { node, exact } = this.walk(pointer);
    return exact ? node : undefined;
  }

  private walk(pointer: string | readonly string[]): { node: unknown; pair?: Pair; exact: boolean } {
    const segments = typeof pointer === "string" ? parseJsonPointer(pointer) : pointer;
    let node: unknown = this.document.contents;
    let pair: Pair | undefined;
    for (const segment of segments) {
      const next = this.child(this.resolveAlias(node), segment);
      if (!next) return { node, pair, exact: false };
      node = next.node;
      pair = next.pair;
    }
    return { node, pair, exact: true };
  }

  /** The location of a raw offset into the file (yaml errors carry offsets). */
  locateOffset(offset: number): SourceLocation {
    return locationAtOffset(this.file, this.lineCounter, offset);
  }

  private child(node: unknown, segment: string): { node: unknown; pair?: Pair } | undefined {
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === segment);
      // A key written without a value (`config:`) still exists: point at its key.
      if (pair) return { node: pair.value ?? pair.key, pair };
      // Not written here: it may come from a merge key (`<<: *shared` or `<<: [*a, *b]`), earlier sources first.
      for (const merge of node.items.filter(
        (item) => isScalar(item.key) && typeof item.key.value === "symbol",
      )) {
        const sources = isSeq(merge.value) ? merge.value.items : [merge.value];
        for (const source of sources) {
          const found = this.child(this.resolveAlias(source), segment);
          if (found) return found;
        }
      }
      return undefined;
    }
    if (isSeq(node) && /^(0|[1-9][0-9]*)$/.test(segment)) {
      const item = node.items[Number(segment)];
      return item === undefined ? undefined : { node: item };
    }
    return undefined;
  }

  private resolveAlias(node: unknown): unknown {
    return isAlias(node) ? (node.resolve(this.document) ?? node) : node;
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return (isScalar(node) || isCollection(node) || isAlias(node)) && Array.isArray((node as Node).range);
}
