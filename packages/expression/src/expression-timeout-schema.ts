import type { JsonSchema } from "@flow/sdk";

/**
 * The `timeoutMs` property of a configuration whose JSONata expressions run once per event (the
 * filter's and the map's): ExpressionLimits.timeoutMs, enforced by compileExpression.
 */
export const expressionTimeoutSchema: JsonSchema = {
  type: "integer",
  minimum: 1,
  maximum: 60000,
  default: 1000,
  description:
    "Longest evaluation of one event, in milliseconds; an event that takes longer is dead-lettered.",
};
