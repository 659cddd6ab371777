export {
  type CompiledExpression,
  compileExpression,
  type ExpressionLimits,
  mustCompile,
} from "./compile-expression";
export { type EventView, eventView, PayloadNotJsonError } from "./event-view";
export { expressionTimeoutSchema } from "./expression-timeout-schema";
export { jsonataBoolean } from "./jsonata-boolean";
export { describeEvaluationError } from "./jsonata-error";
export { isJsonataFunction } from "./jsonata-function";
