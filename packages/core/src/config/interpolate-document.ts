import { type Document, Scalar, visit } from "yaml";
import {
  type Environment,
  interpolateEnvironment,
  offsetOfReference,
  resolvePlainScalar,
} from "./env-interpolation";
import type { PipelineProblem } from "./pipeline-problem";
import type { YamlNodeLocator } from "./yaml-node-locator";

export interface DocumentInterpolation {
  problems: PipelineProblem[];
  /** Values whose variables could not be filled in; other checks stay quiet about them. */
  failedNodes: Set<unknown>;
}

/**
 * Fills in `${...}` in every string value of the parsed document, in place and before schema
 * validation, so the schema checks what the pipeline will really use. Keys are left alone: a
 * pipeline's shape should be readable from the file itself.
 */
export function interpolateDocument(
  document: Document,
  source: string,
  environment: Environment,
  locator: YamlNodeLocator,
): DocumentInterpolation {
  const problems: PipelineProblem[] = [];
  const failedNodes = new Set<unknown>();
  visit(document, {
    Scalar(key, node) {
      if (key === "key" || typeof node.value !== "string" || !node.value.includes("${")) return;
      const { value, problems: found } = interpolateEnvironment(node.value, environment);
      for (const each of found) {
        const [start, end] = node.range ?? [0, 0];
        const inSource = offsetOfReference(source.slice(start, end), each.occurrence);
        problems.push({
          location: locator.locateOffset(start + Math.max(0, inSource)),
          message: each.message,
          hint: each.hint,
        });
      }
      if (found.length > 0) {
        failedNodes.add(node);
        return;
      }
      node.value = node.type === Scalar.PLAIN ? resolvePlainScalar(value) : value;
    },
  });
  return { problems, failedNodes };
}
