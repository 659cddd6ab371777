import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "@flow/errors";
import { runBuf } from "./buf-cli";
import { writeSide } from "./contract-sides";

/** One element of the schema that differs, located in the newer side (below the proto root). */
export interface SchemaChange {
  relative: string;
  line: number;
  col: number;
  /** `adds field Event.kind`, `removes rpc SourceService.Read`, `changes message Event`. */
  message: string;
}

type Descriptor = Record<string, unknown>;
interface Element {
  /** JSON of the element without its children: what must be equal. */
  value: string;
  /** Its descriptor path, for the location in sourceCodeInfo. */
  path: number[];
}

/**
 * What a release changes in the schema of a contract, by comparing the descriptors buf compiles
 * for both sides with the source information (comments, positions) left out: a patch release
 * must change nothing here (additions are minor). Elements are compared one by one, so the
 * answer names what was added, removed or changed, and where.
 */
export function schemaChanges(
  contractDir: string,
  current: ReadonlyMap<string, string>,
  previous: ReadonlyMap<string, string>,
): SchemaChange[] {
  const scratch = mkdtempSync(join(tmpdir(), "flow-schema-"));
  try {
    const build = (side: string, files: ReadonlyMap<string, string>): Descriptor[] => {
      writeSide(join(scratch, side), contractDir, files);
      const output = join(scratch, `${side}.json`);
      const run = runBuf(["build", side, "--output", output], scratch);
      if (run.status !== 0) {
        const first = run.diagnostics[0];
        throw new UserError(
          `cannot compare the schema of ${contractDir}: ${first ? `${first.path}:${first.line}:${first.col}: ${first.message}` : run.otherOutput.join(" ")}`,
        );
      }
      const set = JSON.parse(readFileSync(output, "utf8")) as { file?: Descriptor[] };
      return (set.file ?? []).filter((file) => String(file.name).startsWith(`${contractDir}/`));
    };
    const after = build("current", current);
    const before = new Map(build("previous", previous).map((file) => [String(file.name), file]));
    const changes: SchemaChange[] = [];
    for (const file of after) {
      const name = String(file.name);
      const locate = locator(file);
      const old = before.get(name);
      before.delete(name);
      if (!old) {
        changes.push({ relative: name, line: 1, col: 1, message: `adds file ${name}` });
        continue;
      }
      const now = elementsOf(file);
      const was = elementsOf(old);
      for (const [key, element] of now) {
        const previousElement = was.get(key);
        if (previousElement?.value === element.value) continue;
        changes.push({
          relative: name,
          ...locate(element.path),
          message: `${previousElement ? "changes" : "adds"} ${key}`,
        });
      }
      for (const key of was.keys()) {
        if (!now.has(key)) changes.push({ relative: name, line: 1, col: 1, message: `removes ${key}` });
      }
    }
    for (const name of before.keys())
      changes.push({ relative: name, line: 1, col: 1, message: `removes file ${name}` });
    return changes.sort((a, b) => a.line - b.line || a.col - b.col);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The file's elements by a readable key: `field Event.id`, `enum value Severity.SEVERITY_ERROR`, ... */
function elementsOf(file: Descriptor): Map<string, Element> {
  const elements = new Map<string, Element>();
  const own = (descriptor: Descriptor, children: string[]) =>
    JSON.stringify(
      Object.fromEntries(
        Object.entries(descriptor)
          .filter(([key]) => !children.includes(key))
          .sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
    );
  const list = (descriptor: Descriptor, key: string) => (descriptor[key] as Descriptor[] | undefined) ?? [];
  elements.set("the file's syntax, package, imports or options", {
    value: own(file, ["messageType", "enumType", "service", "sourceCodeInfo", "bufExtension", "extension"]),
    path: [],
  });
  const addEnum = (enumType: Descriptor, scope: string, path: number[]) => {
    const name = `${scope}${enumType.name}`;
    elements.set(`enum ${name}`, { value: own(enumType, ["value"]), path });
    list(enumType, "value").forEach((value, index) => {
      elements.set(`enum value ${name}.${value.name}`, { value: own(value, []), path: [...path, 2, index] });
    });
  };
  const addMessage = (message: Descriptor, scope: string, path: number[]) => {
    const name = `${scope}${message.name}`;
    elements.set(`message ${name}`, { value: own(message, ["field", "nestedType", "enumType"]), path });
    list(message, "field").forEach((field, index) => {
      elements.set(`field ${name}.${field.name}`, { value: own(field, []), path: [...path, 2, index] });
    });
    for (const [index, nested] of list(message, "nestedType").entries())
      addMessage(nested, `${name}.`, [...path, 3, index]);
    for (const [index, nested] of list(message, "enumType").entries())
      addEnum(nested, `${name}.`, [...path, 4, index]);
  };
  for (const [index, message] of list(file, "messageType").entries()) addMessage(message, "", [4, index]);
  for (const [index, enumType] of list(file, "enumType").entries()) addEnum(enumType, "", [5, index]);
  list(file, "service").forEach((service, index) => {
    elements.set(`service ${service.name}`, { value: own(service, ["method"]), path: [6, index] });
    list(service, "method").forEach((method, methodIndex) => {
      elements.set(`rpc ${service.name}.${method.name}`, {
        value: own(method, []),
        path: [6, index, 2, methodIndex],
      });
    });
  });
  return elements;
}

/** Finds an element's position from the file's source code info (1-based); 1:1 when absent. */
function locator(file: Descriptor): (path: number[]) => { line: number; col: number } {
  const locations =
    (file.sourceCodeInfo as { location?: { path?: number[]; span?: number[] }[] } | undefined)?.location ??
    [];
  const byPath = new Map(locations.map((location) => [(location.path ?? []).join("."), location.span ?? []]));
  return (path) => {
    const span = path.length === 0 ? undefined : byPath.get(path.join("."));
    return span && span.length >= 2
      ? { line: (span[0] ?? 0) + 1, col: (span[1] ?? 0) + 1 }
      : { line: 1, col: 1 };
  };
}
