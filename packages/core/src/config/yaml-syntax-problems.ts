// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the pipeline file's own interpolation syntax, written literally on purpose.
import { type Document, visit, type YAMLError } from "yaml";
import type { PipelineProblem } from "./pipeline-problem";
import type { YamlNodeLocator } from "./yaml-node-locator";

/**
 * YAML errors and aliases without an anchor. When there are any, nothing else is checked: what
 * follows a syntax error cannot be read reliably, and guesses would bury the real mistake.
 */
export function yamlSyntaxProblems(
  document: Document,
  source: string,
  locator: YamlNodeLocator,
): PipelineProblem[] {
  const problems = document.errors.map((error) => describeYamlError(error, source, locator));
  visit(document, {
    Alias(_key, alias) {
      if (alias.resolve(document)) return;
      problems.push({
        location: locator.locateOffset(alias.range?.[0] ?? 0),
        message: `found the alias *${alias.source} with no anchor &${alias.source} before it, expected an anchor defined above its aliases`,
        hint: `define it first, e.g. x-shared: &${alias.source} { ... }`,
      });
    },
  });
  return problems;
}

/** yaml's warnings (an unknown tag, say) do not stop the file from loading; they are passed on. */
export function yamlWarnings(document: Document, locator: YamlNodeLocator): PipelineProblem[] {
  return document.warnings.map((warning) => ({
    location: locator.locateOffset(warning.pos[0]),
    message: `YAML: ${warning.message}`,
  }));
}

function describeYamlError(error: YAMLError, source: string, locator: YamlNodeLocator): PipelineProblem {
  const [start] = error.pos;
  const location = locator.locateOffset(start);
  if (error.code === "DUPLICATE_KEY") {
    const key = keyAt(source, start);
    return {
      location,
      message: `invalid YAML: found the key ${JSON.stringify(key)} a second time in one mapping, expected each key once`,
      hint: "remove or merge one of the two entries",
    };
  }
  if (error.code === "MULTIPLE_DOCS") {
    return {
      location,
      message: 'invalid YAML: found a second document (after "---"), expected one pipeline per file',
      hint: "put each pipeline in a file of its own",
    };
  }
  const lineText = source.split(/\r?\n/)[location.line - 1] ?? "";
  return {
    location,
    message: `invalid YAML: ${error.message.replace(/\s+/g, " ").trim()}`,
    hint: lineText.includes("${")
      ? 'inside { } or [ ] a "${...}" must be quoted: "${NAME}" (braces are YAML syntax there)'
      : "fix the YAML syntax here; nothing else in the file is checked until it parses",
  };
}

// yaml's error range covers only part of the key; the key runs to its colon.
function keyAt(source: string, offset: number): string {
  return /^[^:\n]*/.exec(source.slice(offset))?.[0]?.trim() ?? "";
}
