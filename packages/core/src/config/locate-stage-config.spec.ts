import { UserError } from "@flow/errors";
import { parsePipeline } from "./load-pipeline";
import {
  locatePipelineField,
  locateStageConfig,
  stageConfigError,
  stageConfigProblem,
} from "./locate-stage-config";
import { formatLocation } from "./source-location";

const TEXT = `apiVersion: flow/v1
kind: Pipeline
metadata: { name: locate }
x-shared: &shared
  table: events
sources:
  - id: orders
    use: "@flow/source-generator"
consumers:
  - id: db
    use: "@flow/consumer-sqlite"
    inputs: [orders]
    config:
      path: .flow/out.db
      columns:
        - id
        - type
        - { name: amount, type: real }
      "a/b": slash
      target: *shared
`;

const pipeline = parsePipeline(TEXT, { file: "p.yaml", baseDir: "/tmp", env: {} });
const where = (stageId: string, pointer: string) =>
  formatLocation(locateStageConfig(pipeline, stageId, pointer));

describe("locateStageConfig", () => {
  it("finds scalars and list entries by JSON Pointer", () => {
    expect(where("db", "/path")).toBe("p.yaml:14:13");
    expect(where("db", "/columns/1")).toBe("p.yaml:17:11");
    expect(where("db", "/columns/2/type")).toBe("p.yaml:18:33");
  });

  it("locates a block list or mapping at its key", () => {
    expect(where("db", "/columns")).toBe("p.yaml:15:7");
    expect(where("db", "")).toBe("p.yaml:13:5");
  });

  it("unescapes ~1 and ~0", () => {
    expect(where("db", "/a~1b")).toBe("p.yaml:19:14");
  });

  it("follows aliases into the anchored value", () => {
    expect(where("db", "/target/table")).toBe("p.yaml:5:10");
  });

  it("falls back to the deepest part that exists for a pointer deeper than the file", () => {
    expect(where("db", "/columns/7/name")).toBe("p.yaml:15:7");
    expect(where("db", "/missing")).toBe("p.yaml:13:5");
  });

  it("points at the stage itself when it has no config", () => {
    expect(where("orders", "/count")).toBe("p.yaml:7:5");
  });

  it("treats a malformed pointer as the whole config", () => {
    expect(where("db", "columns.2")).toBe("p.yaml:13:5");
  });

  it("falls back to the stage's location for a copy of the model", () => {
    const copy = structuredClone(pipeline);
    expect(formatLocation(locateStageConfig(copy, "db", "/path"))).toBe("p.yaml:10:5");
  });

  it("refuses an unknown stage (a caller bug, not a user error)", () => {
    expect(() => locateStageConfig(pipeline, "nope", "/x")).toThrow('pipeline "locate" has no stage "nope"');
  });
});

describe("stageConfigProblem / stageConfigError", () => {
  it("phrases a service's config issue at its place in the pipeline file", () => {
    expect(
      stageConfigProblem(pipeline, "db", "/columns/2/type", 'found "real", expected one of text, integer'),
    ).toEqual({
      location: { file: "p.yaml", line: 18, column: 33 },
      message: 'consumer "db" config /columns/2/type: found "real", expected one of text, integer',
    });
    const error = stageConfigError(pipeline, "db", "", "cannot open the database", "check config.path");
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe('p.yaml:13:5: consumer "db" config: cannot open the database');
    expect(error.hint).toBe("check config.path");
  });
});

describe("locateStageConfig through merge keys", () => {
  const text = `apiVersion: flow/v1
kind: Pipeline
metadata: { name: merged }
x-sink: &sink
  use: "@flow/consumer-file"
  config:
    path: out.jsonl
sources: [{ id: s, use: a }]
consumers:
  - <<: *sink
    id: c
    inputs: [s]
`;

  it("loads merged fields and finds them where they are written", () => {
    const merged = parsePipeline(text, { file: "m.yaml", baseDir: "/tmp", env: {} });
    expect(merged.stages[1]).toMatchObject({
      id: "c",
      locator: { kind: "use", packageName: "@flow/consumer-file" },
    });
    expect(merged.stages[1]?.config).toEqual({ path: "out.jsonl" });
    expect(formatLocation(locateStageConfig(merged, "c", "/path"))).toBe("m.yaml:7:11");
  });
});

describe("locatePipelineField", () => {
  it("finds a top-level setting where it is written, and the file's start when it is left out", () => {
    const text = `apiVersion: flow/v1
kind: Pipeline
metadata: { name: fields }
deadLetters:
  path: out/dead.jsonl
sources: [{ id: s, use: a }]
consumers: [{ id: c, use: b, inputs: [s] }]
`;
    const fields = parsePipeline(text, { file: "f.yaml", baseDir: "/tmp", env: {} });
    expect(formatLocation(locatePipelineField(fields, ["deadLetters", "path"]))).toBe("f.yaml:5:9");
    expect(formatLocation(locatePipelineField(fields, ["state", "url"]))).toBe("f.yaml:1:1");
  });
});
