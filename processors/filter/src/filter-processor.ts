import { join } from "node:path";
import { deadLetter, type ProcessorDefinition, readPackageVersion } from "@flow/sdk";
import { eventView } from "./event-view";
import { type FilterConfig, filterConfigSchema } from "./filter-config";
import {
  type CompiledExpression,
  compileExpression,
  describeEvaluationError,
  jsonataBoolean,
  mustCompile,
} from "./jsonata-expression";

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
