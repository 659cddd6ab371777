/**
 * The JSON Schema of a pipeline test file (`<pipeline>.test.yaml`, docs/testing-pipelines.md).
 * Kept as code beside its parser: editors can be pointed at it, and the parser validates with it.
 */
export const pipelineTestSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Flow pipeline test file",
  type: "object",
  additionalProperties: false,
  required: ["tests"],
  properties: {
    pipeline: {
      type: "string",
      minLength: 1,
      description:
        "The pipeline file under test, relative to this file; default: this file's name without `.test` (orders.test.yaml tests orders.yaml).",
    },
    tests: {
      type: "array",
      minItems: 1,
      items: { $ref: "#/definitions/test" },
    },
  },
  definitions: {
    test: {
      type: "object",
      additionalProperties: false,
      required: ["name", "input", "expect"],
      properties: {
        name: { type: "string", minLength: 1 },
        input: {
          description: "The events the pipeline's sources would read: one entry, or a list of them.",
          oneOf: [
            { $ref: "#/definitions/input" },
            { type: "array", minItems: 1, items: { $ref: "#/definitions/input" } },
          ],
        },
        expect: {
          type: "object",
          minProperties: 1,
          description: "Expectations on the output of stages, by stage id.",
          additionalProperties: { $ref: "#/definitions/expectation" },
        },
      },
    },
    input: {
      type: "object",
      additionalProperties: false,
      properties: {
        source: {
          type: "string",
          minLength: 1,
          description: "The source stage whose output these events are; default: the pipeline's only source.",
        },
        events: {
          type: "array",
          items: { type: "object" },
          description:
            "Events in the CloudEvents JSON format; id, source, specversion and type get defaults.",
        },
        file: {
          type: "string",
          minLength: 1,
          description:
            "A file of events, relative to the test file: CloudEvents JSON Lines (what `flow dead-letters export` writes) or one JSON array.",
        },
      },
      oneOf: [{ required: ["events"] }, { required: ["file"] }],
    },
    expectation: {
      type: "object",
      additionalProperties: false,
      minProperties: 1,
      properties: {
        count: { type: "integer", minimum: 0, description: "How many events the stage emits." },
        equal: {
          type: "array",
          items: { type: "object" },
          description: "The stage's whole output, in order, each event exactly (CloudEvents JSON).",
        },
        contains: {
          type: "array",
          items: { type: "object" },
          description:
            "Events the output holds, in any order; each one given partially (the fields named must match).",
        },
        match: {
          type: "object",
          minProperties: 1,
          additionalProperties: true,
          description:
            "JSONPath expressions over the output (an array of CloudEvents JSON objects), each with the value it must select.",
        },
        deadLetters: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            properties: {
              reason: { type: "string", description: "Text the dead letter's reason contains." },
              event: { type: "object", description: "The dead-lettered event, partially." },
            },
          },
          description:
            "Exactly the stage's dead letters, in order ([] for none): each with text its reason contains and/or the event.",
        },
      },
    },
  },
} as const;
