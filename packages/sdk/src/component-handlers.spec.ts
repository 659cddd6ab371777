import { unary } from "@flow/testing";
import { warningIssue } from "./component";
import { Family, Ordering, Severity } from "./gen/component/v1/component";
import type {
  ConfigureResponse,
  DescribeResponse,
  ProcessorServiceClient,
} from "./gen/processor_service/v1/processor";
import type { ProcessorDefinition } from "./processor";
import { type Running, runProcessor } from "./test-support/family-servers";

interface ColumnsConfig {
  table: string;
  mode: "append" | "upsert";
  columns: { name: string; type: string }[];
}

const schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["table", "columns"],
  additionalProperties: false,
  properties: {
    table: { type: "string", minLength: 1 },
    mode: { enum: ["append", "upsert"], default: "append" },
    columns: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "type"],
        properties: { name: { type: "string", pattern: "^[a-z_]+$" }, type: { type: "string" } },
      },
    },
    "a/b~c": { type: "integer" },
  },
};

describe("Describe and Configure (processor_service v1 over a real port)", () => {
  let running: Running<ProcessorServiceClient>;
  const checked: { config: ColumnsConfig; validateOnly: boolean; stageId: string }[] = [];

  beforeAll(async () => {
    const definition: ProcessorDefinition<ColumnsConfig> = {
      name: "test-columns",
      version: "2.0.1",
      description: "Checks columns",
      configSchema: schema,
      acceptedEventTypes: ["com.example.*"],
      producedEventTypes: ["com.example.row"],
      limits: { maxBatchSize: 500, maxInFlightBatches: 4, maxEventBytes: 2 ** 40 },
      features: { ordering: "perSubject", deadLetters: true },
      validate(config, context) {
        checked.push({ config, ...context });
        return config.table === "legacy" ? [warningIssue("/table", "legacy is read-only tomorrow")] : [];
      },
      process: (event) => event,
    };
    running = await runProcessor(definition);
  });
  afterAll(() => running.close());

  it("describes the component with everything the definition says", async () => {
    const { component } = await unary<DescribeResponse>((done) => running.client.describe({}, done));
    expect(component).toMatchObject({
      name: "test-columns",
      version: "2.0.1",
      family: Family.FAMILY_PROCESSOR,
      contracts: [{ name: "processor_service", major: 1, minor: 0, patch: 0 }],
      acceptedEventTypes: ["com.example.*"],
      producedEventTypes: ["com.example.row"],
      limits: { maxBatchSize: 500, maxInFlightBatches: 4, maxEventBytes: 2n ** 40n },
      features: {
        checkpointing: false,
        ordering: Ordering.ORDERING_PER_SUBJECT,
        idempotent: false,
        deadLetters: true,
      },
      description: "Checks columns",
    });
    expect(JSON.parse(component?.configSchema ?? "")).toEqual(schema);
  });

  it("returns every schema issue at once, each at its JSON Pointer, in validate-only mode", async () => {
    const config = {
      mode: "replace",
      columns: [{ name: "ok", type: "text" }, { name: "Bad-Name", type: "text" }, { type: 3 }],
      colour: "red",
      "a/b~c": "x",
    };
    const answer = await unary<ConfigureResponse>((done) =>
      running.client.configure(
        {
          configJson: JSON.stringify(config),
          validateOnly: true,
          stageId: "cols",
        },
        done,
      ),
    );
    expect(answer.accepted).toBe(false);
    expect(answer.issues).toHaveLength(7);
    const byPath = Object.fromEntries(answer.issues.map((issue) => [issue.path, issue]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        "/table",
        "/mode",
        "/columns/1/name",
        "/columns/2/name",
        "/columns/2/type",
        "/colour",
        "/a~1b~0c",
      ].sort(),
    );
    expect(byPath["/table"]?.message).toContain('required property "table"');
    expect(byPath["/mode"]?.message).toBe('must be one of "append", "upsert"');
    expect(byPath["/colour"]?.message).toContain('unknown property "colour"');
    expect(byPath["/columns/1/name"]?.message).toContain("pattern");
    expect(answer.issues.every((issue) => issue.severity === Severity.SEVERITY_ERROR)).toBe(true);
    // The service's own checks run only on a configuration the schema accepts.
    expect(checked).toHaveLength(0);
  });

  it("runs the service's own checks with schema defaults applied, and accepts warnings", async () => {
    const answer = await unary<ConfigureResponse>((done) =>
      running.client.configure(
        {
          configJson: JSON.stringify({ table: "legacy", columns: [] }),
          validateOnly: true,
          stageId: "cols",
        },
        done,
      ),
    );
    expect(answer.accepted).toBe(true);
    expect(answer.issues).toMatchObject([
      { path: "/table", message: "legacy is read-only tomorrow", severity: Severity.SEVERITY_WARNING },
    ]);
    expect(checked.at(-1)).toEqual({
      config: { table: "legacy", columns: [], mode: "append" },
      validateOnly: true,
      stageId: "cols",
    });
  });

  it("reports text that is not JSON as one issue at the root", async () => {
    const answer = await unary<ConfigureResponse>((done) =>
      running.client.configure({ configJson: "{table:", validateOnly: true, stageId: "" }, done),
    );
    expect(answer.accepted).toBe(false);
    expect(answer.issues).toHaveLength(1);
    expect(answer.issues[0]).toMatchObject({ path: "", severity: Severity.SEVERITY_ERROR });
    expect(answer.issues[0]?.message).toContain("not valid JSON");
  });
});
