import { expressionTimeoutSchema } from "@flow/expression";
import type { JsonSchema } from "@flow/sdk";

export interface FilterConfig {
  /** JSONata over { id, source, type, subject, time, datacontenttype, dataschema, extensions, data }. */
  expression: string;
  /** Longest evaluation of one event, in milliseconds. */
  timeoutMs: number;
}

export const filterConfigSchema: JsonSchema = {
  title: "flow-processor-filter configuration",
  type: "object",
  additionalProperties: false,
  required: ["expression"],
  properties: {
    expression: {
      type: "string",
      minLength: 1,
      description:
        "A JSONata expression over the event: { id, source, specversion, type, subject, time (RFC 3339), datacontenttype, dataschema, extensions, data (the JSON payload) }. Events for which it is truthy (as JSONata's $boolean) pass; the others are dropped.",
      examples: ['data.total > 100 and type = "order.created"'],
    },
    timeoutMs: expressionTimeoutSchema,
  },
};
