import { expressionTimeoutSchema } from "@flow/expression";
import type { JsonSchema } from "@flow/sdk";

export interface MapConfig {
  /** JSONata producing the new payload, over the same event view as the filter. */
  expression: string;
  /** The new CloudEvents type (a literal), when the new payload deserves one. */
  type?: string;
  /** JSONata producing the new subject; the event keeps its subject when this yields nothing. */
  subject?: string;
  /** The new dataschema (a literal URI); without it the old one is removed, as it described the old payload. */
  dataschema?: string;
  /** Longest evaluation of one event, in milliseconds. */
  timeoutMs: number;
}

export const mapConfigSchema: JsonSchema = {
  title: "flow-processor-map configuration",
  type: "object",
  additionalProperties: false,
  required: ["expression"],
  properties: {
    expression: {
      type: "string",
      minLength: 1,
      description:
        "A JSONata expression producing the new JSON payload, over the event: { id, source, specversion, type, subject, time (RFC 3339), datacontenttype, dataschema, extensions, data (the JSON payload) }.",
      examples: ['{ "order": data.id, "total": $sum(data.lines.(price * qty)) }'],
    },
    type: {
      type: "string",
      minLength: 1,
      description:
        "The new CloudEvents type of every mapped event (a literal, not an expression); default: unchanged.",
    },
    subject: {
      type: "string",
      minLength: 1,
      description:
        "A JSONata expression (same input) producing the new subject, a string or number; when it yields nothing the subject is unchanged.",
      examples: ["data.customer.id"],
    },
    dataschema: {
      type: "string",
      minLength: 1,
      description: "The new dataschema URI; default: none (the old one described the old payload).",
    },
    timeoutMs: expressionTimeoutSchema,
  },
};
