import { join } from "node:path";
import {
  type CompiledExpression,
  compileExpression,
  describeEvaluationError,
  eventView,
  jsonataBoolean,
  mustCompile,
} from "@flow/expression";
import { deadLetter, type ProcessorDefinition, readPackageVersion } from "@flow/sdk";
import { type FilterConfig, filterConfigSchema } from "./filter-config";

export interface FilterState {
  expression: CompiledExpression;
}

export const filterProcessor: ProcessorDefinition<FilterConfig, FilterState> = {
  name: "flow-processor-filter",
  version: readPackageVersion(join(__dirname, "..")),
  description: "Keeps the events a JSONata expression over the event and its JSON payload finds truthy",
  configSchema: filterConfigSchema,
  features: { ordering: "total", deadLetters: true },

  validate(config) {
    return compileExpression(config.expression, "/expression", config).issues;
  },

  setup(config) {
    return { expression: mustCompile(config.expression, "/expression", config) };
  },

  async process(event, state) {
    let verdict: unknown;
    try {
      verdict = await state.expression.evaluate(eventView(event));
    } catch (error) {
      return deadLetter(`filter expression failed: ${describeEvaluationError(error)}`);
    }
    return jsonataBoolean(verdict) ? event : null;
  },
};
