import type { JsonSchema } from "@flow/sdk";

export interface GeneratorConfig {
  /** Events in total, counting from sequence 1; 0 means no end. */
  count: number;
  /** Events per second; 0 means as fast as the pipeline takes them. */
  rate: number;
  /** CloudEvents `type` of every event. */
  type: string;
  /** CloudEvents `source` of every event. */
  source: string;
  /** CloudEvents `subject`, with the same placeholders as the payload template. */
  subject?: string;
  payload: {
    /** Any JSON value; strings may hold {{seq}}, {{id}}, {{stage}} and {{time}}. */
    template?: unknown;
    /** Pads the (object) payload with a "pad" string so its JSON is this many bytes. */
    size?: number;
  };
  /** Events per batch when Core leaves the size to the source. */
  batchSize: number;
}

export const generatorConfigSchema: JsonSchema = {
  title: "flow-source-generator configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    count: {
      type: "integer",
      minimum: 0,
      default: 0,
      description: "How many events to generate in total (sequence 1..count); 0 means never stop.",
    },
    rate: {
      type: "number",
      minimum: 0,
      default: 0,
      description: "Events per second; 0 means as fast as the pipeline accepts them.",
    },
    type: {
      type: "string",
      minLength: 1,
      default: "flow.generator.event",
      description: "CloudEvents type of the generated events.",
    },
    source: {
      type: "string",
      minLength: 1,
      default: "urn:flow:generator",
      description: "CloudEvents source (a URI reference) of the generated events.",
    },
    subject: {
      type: "string",
      description: "CloudEvents subject; may hold {{seq}}, {{id}}, {{stage}}, {{time}}.",
    },
    payload: {
      type: "object",
      additionalProperties: false,
      default: {},
      description: "The shape of each event's JSON payload.",
      properties: {
        template: {
          description:
            'Any JSON value. Inside strings, {{seq}}, {{id}}, {{stage}} and {{time}} are replaced; a string that is exactly "{{seq}}" becomes the number. Default: {"seq": "{{seq}}"}.',
        },
        size: {
          type: "integer",
          minimum: 2,
          maximum: 16777216,
          description:
            'Payload size in bytes: the object payload gets a "pad" string of the length that makes its JSON exactly this long (never shorter than the template needs).',
        },
      },
    },
    batchSize: {
      type: "integer",
      minimum: 1,
      maximum: 100000,
      default: 100,
      description: "Events per batch when Flow Core leaves the batch size to the source.",
    },
  },
};
