import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UserErrors } from "@flow/errors";
import Ajv from "ajv";
import { parse } from "yaml";
import { DEFAULT_STATE_STORE_URL } from "../state/state-store-url";
import { parsePipeline } from "./load-pipeline";
import {
  ENVIRONMENT_REFERENCE_PATTERN,
  interpolatedPipelineSchema,
  PIPELINE_SCHEMA_PATH,
  pipelineSchema,
  pipelineValidator,
} from "./pipeline-schema";
import {
  BUILT_IN_STAGE_SETTINGS,
  DEFAULT_COMMIT_INTERVAL_MS,
  DEFAULT_DEAD_LETTER_PATH,
  DEFAULT_STATE_UNREACHABLE_LIMIT_MS,
} from "./stage-settings-defaults";

type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  default?: unknown;
  definitions?: Record<string, SchemaNode>;
};

describe("the published pipeline schema", () => {
  const schema = pipelineSchema() as SchemaNode;
  const definitions = schema.definitions ?? {};

  it("lives in packages/core/schema and compiles in ajv's strict mode", () => {
    expect(PIPELINE_SCHEMA_PATH).toMatch(/packages\/core\/schema\/pipeline\.schema\.json$/);
    expect(typeof pipelineValidator()).toBe("function");
  });

  it("announces the defaults the loader applies", () => {
    const settings = BUILT_IN_STAGE_SETTINGS as unknown as Record<string, unknown>;
    for (const group of ["batch", "retry", "timeouts", "restart"]) {
      const fields = definitions[group]?.properties ?? {};
      const announced = Object.fromEntries(
        Object.entries(fields).map(([name, field]) => [name, field.default]),
      );
      expect({ group, announced }).toEqual({ group, announced: settings[group] });
    }
    expect(definitions.inFlight?.default).toBe(BUILT_IN_STAGE_SETTINGS.inFlight);
    expect(definitions.commitIntervalMs?.default).toBe(DEFAULT_COMMIT_INTERVAL_MS);
    expect(schema.properties?.state?.properties?.url?.default).toBe(DEFAULT_STATE_STORE_URL);
    expect(schema.properties?.state?.properties?.unreachableLimitMs?.default).toBe(
      DEFAULT_STATE_UNREACHABLE_LIMIT_MS,
    );
    expect(schema.properties?.deadLetters?.properties?.path?.default).toBe(DEFAULT_DEAD_LETTER_PATH);
  });

  it("gives every property a description, so editors can show it", () => {
    const missing: string[] = [];
    const walk = (node: SchemaNode, path: string) => {
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        const described = "description" in child || "$ref" in child;
        if (!described) missing.push(`${path}/${name}`);
        walk(child, `${path}/${name}`);
      }
    };
    walk(schema, "#");
    for (const [name, definition] of Object.entries(definitions)) walk(definition, `#/definitions/${name}`);
    expect(missing).toEqual([]);
  });
});

describe("an environment reference where a number is expected", () => {
  /** What an editor does: the published schema, the file as written (no variables filled in). */
  const editorValidator = () => {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addVocabulary(["patternErrorMessage"]);
    return ajv.compile(pipelineSchema());
  };
  const numberFields = (node: unknown, path = "#"): string[] => {
    if (typeof node !== "object" || node === null) return [];
    const record = node as Record<string, unknown>;
    const type = record.type;
    const own = (Array.isArray(type) ? type : [type]).includes("integer") ? [path] : [];
    return [
      ...own,
      ...Object.entries(record).flatMap(([key, value]) => numberFields(value, `${path}/${key}`)),
    ];
  };

  it("is accepted by the published schema at every number field, so editors do not flag it", () => {
    const fields = numberFields(pipelineSchema()).filter(
      (path) => !path.endsWith("/deadLetters/properties/allow"),
    );
    expect(fields.length).toBeGreaterThanOrEqual(14);
    const wrong = fields.filter((path) => {
      const node = path
        .split("/")
        .slice(1)
        .reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], pipelineSchema()) as {
        pattern?: string;
      };
      return node.pattern !== ENVIRONMENT_REFERENCE_PATTERN;
    });
    expect(wrong).toEqual([]);
    const file = parse(`apiVersion: flow/v1
kind: Pipeline
metadata: { name: vars }
state:
  unreachableLimitMs: \${STATE_LIMIT:-60000}
defaults:
  inFlight: \${IN_FLIGHT:-16}
  batch: { maxSize: "\${BATCH}" }
sources: [{ id: gen, use: "@flow/source-generator" }]
consumers: [{ id: out, use: "@flow/consumer-file", inputs: [gen] }]
`);
    const validate = editorValidator();
    expect(validate(file) ? [] : validate.errors).toEqual([]);
    expect(validate({ ...file, defaults: { inFlight: "lots" } })).toBe(false);
  });

  it("is no number to Core once filled in: a literal $${…} in a number field is refused", () => {
    expect(JSON.stringify(interpolatedPipelineSchema())).not.toContain(
      'patternErrorMessage":"a whole number',
    );
    const literal = () =>
      parsePipeline(
        `apiVersion: flow/v1
kind: Pipeline
metadata: { name: literal }
defaults: { inFlight: "$\${IN_FLIGHT}" }
sources: [{ id: gen, use: "@flow/source-generator" }]
consumers: [{ id: out, use: "@flow/consumer-file", inputs: [gen] }]
`,
        { file: "literal.yaml", env: {} },
      );
    expect(() => literal()).toThrow(UserErrors);
    try {
      literal();
    } catch (error) {
      expect((error as UserErrors).errors.map((e) => e.message)).toEqual([
        `literal.yaml:4:23: defaults.inFlight: found "$\{IN_FLIGHT}", expected an integer`,
      ]);
    }
    const filled = parsePipeline(
      `apiVersion: flow/v1
kind: Pipeline
metadata: { name: filled }
defaults:
  inFlight: \${IN_FLIGHT:-16}
sources: [{ id: gen, use: "@flow/source-generator" }]
consumers: [{ id: out, use: "@flow/consumer-file", inputs: [gen] }]
`,
      { file: "filled.yaml", env: {} },
    );
    expect(filled.defaults.inFlight).toBe(16);
  });
});

describe("docs/pipeline.md", () => {
  // The reference's complete examples must load, so the documentation cannot drift from the code.
  const reference = readFileSync(join(__dirname, "..", "..", "..", "..", "docs", "pipeline.md"), "utf8");
  const examples = [...reference.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] as string)
    .filter((block) => /^apiVersion: flow\/v1$/m.test(block));

  it("has complete examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples.map((example, index) => [index, example]))("example %i loads", (_index, example) => {
    const pipeline = parsePipeline(example as string, {
      file: "example.yaml",
      baseDir: "/srv/flow",
      env: { PGPASSWORD: "secret", ORDERS_FILE: "/data/orders.jsonl" },
    });
    expect(pipeline.stages.length).toBeGreaterThan(0);
  });
});
