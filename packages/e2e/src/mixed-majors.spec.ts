import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isJsonContentType, timestampFromRfc3339 } from "@flow/sdk";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";
import {
  BIG_INTEGER,
  type EventRecord,
  eventRecord,
  mixedMajorEvents,
  SHOUT_FIELD,
} from "./fixtures/mixed-major-events";
import { REPOSITORY_ROOT, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

// Pipelines whose stages speak different majors of their family contracts (issue 14): Core
// converts each batch on an edge between majors and forwards it elsewhere, and every event
// arrives as it was sent - each attribute, each extension with its type, the data's bytes, JSON
// integers beyond a double's precision as their digits, timestamps far from the epoch. The
// majors: a stage's `contractMajor`, or what a v1-only service (the Python examples, built
// against the old contracts and left unchanged) serves.

const FIXTURES = join(__dirname, "..", "dist", "fixtures");
const node = (script: string) => JSON.stringify(["node", script]);
const TYPED_SOURCE = node(join(FIXTURES, "typed-source-main.js"));
const TYPED_RECORDER = node(join(FIXTURES, "typed-recorder-main.js"));
const FILTER = node(serviceMain("@flow/processor-filter"));
const SOURCE_FILE = node(serviceMain("@flow/source-file"));
const CONSUMER_FILE = node(serviceMain("@flow/consumer-file"));

const PYTHON = process.env.FLOW_TEST_PYTHON ?? "/usr/bin/python3";
const EXAMPLES = join(REPOSITORY_ROOT, "examples", "python");
const python = (script: string) => JSON.stringify([PYTHON, join(EXAMPLES, script)]);

interface StageSummary {
  stageId: string;
  contractMajor: number;
}
interface RunSummary {
  status: string;
  stages: StageSummary[];
}

/** A stage of a three-stage pipeline; `major` pins its contract major, else Core negotiates one. */
interface Stage {
  id: string;
  command: string;
  major?: number;
  config?: string;
}

const stageYaml = (stage: Stage, input?: string) =>
  [
    `  - id: ${stage.id}`,
    `    command: ${stage.command}`,
    ...(input ? [`    inputs: [${input}]`] : []),
    ...(stage.major ? [`    contractMajor: ${stage.major}`] : []),
    ...(stage.config ? [`    config: ${stage.config}`] : []),
  ].join("\n");

/** `flow run --json` of source -> processor -> consumer; fails with the log when it did not succeed. */
async function runChain(
  dir: ReturnType<typeof tempDir>,
  name: string,
  [source, processor, consumer]: [Stage, Stage, Stage],
  options: { head?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ summary: RunSummary; file: string }> {
  const file = dir.file(
    `${name}.yaml`,
    [
      "apiVersion: flow/v1",
      "kind: Pipeline",
      `metadata: { name: ${name} }`,
      ...(options.head ? [options.head] : []),
      "sources:",
      stageYaml(source),
      "processors:",
      stageYaml(processor, source.id),
      "consumers:",
      stageYaml(consumer, processor.id),
      "",
    ].join("\n"),
  );
  const result = await runFlow(["run", file, "--json"], { cwd: dir.path, env: options.env });
  expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({
    code: 0,
    stderr: "",
  });
  return { summary: JSON.parse(result.stdout) as RunSummary, file };
}

const FAMILY_CONTRACTS = ["source_service", "processor_service", "consumer_service"] as const;

/**
 * What `flow describe` (each stage, as the pipeline finds it) and `flow status` (the run) say each
 * stage spoke, in text and in --json: the majors `spoken`, in stage order.
 */
async function expectMajorsShown(
  dir: ReturnType<typeof tempDir>,
  file: string,
  stages: Stage[],
  spoken: number[],
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  const cli = (args: string[]) => runFlow(args, { cwd: dir.path, env });
  const expected = Object.fromEntries(stages.map((stage, index) => [stage.id, spoken[index]]));
  const described: Record<string, unknown> = {};
  for (const [index, stage] of stages.entries()) {
    const contract = `${FAMILY_CONTRACTS[index]} v${spoken[index]}`;
    const text = await cli(["describe", stage.id, "-f", file]);
    const json = await cli(["describe", stage.id, "-f", file, "--json"]);
    expect(text.stdout).toContain(`speaks with this core: ${contract} (`);
    described[stage.id] = (JSON.parse(json.stdout) as { negotiated: { major: number } }).negotiated.major;
  }
  expect(described).toEqual(expected);

  // This pipeline's runs only (the folder's state store also has the other tests' runs).
  const status = JSON.parse((await cli(["status", file, "--json"])).stdout) as { runs: RunSummary[] };
  expect(status.runs.map(majors)).toEqual([expected]);
  const text = (await cli(["status", file])).stdout;
  for (const [id, major] of Object.entries(expected))
    expect(text).toMatch(new RegExp(`^ +${id} .* contract v${major}$`, "m"));
}

const majors = (summary: RunSummary) =>
  Object.fromEntries(summary.stages.map((stage) => [stage.stageId, stage.contractMajor]));

const lines = (path: string): string[] => readFileSync(path, "utf8").trimEnd().split("\n");
const records = (path: string): EventRecord[] => lines(path).map((line) => JSON.parse(line) as EventRecord);
const byId = <T extends { id: string }>(items: T[]): Record<string, T> =>
  Object.fromEntries(items.map((item) => [item.id, item]));

/** What the typed source sends, as records: what must arrive. */
const sent = (): Record<string, EventRecord> => byId(mixedMajorEvents().map(eventRecord));

interface DeadLetter {
  stage: string;
  reason: string;
  event: { id: string };
}
const deadLetters = (dir: string): DeadLetter[] => {
  const path = join(dir, ".flow", "dead-letters.jsonl");
  return existsSync(path) ? lines(path).map((line) => JSON.parse(line) as DeadLetter) : [];
};

// CloudEvents JSON lines: what @flow/source-file reads and @flow/consumer-file writes. Each ends
// with its data, written as it came.
const JSONL_SOURCE = "urn:flow:e2e:jsonl";
const JSONL_EVENTS = [
  `{"specversion":"1.0","id":"j-1","source":"${JSONL_SOURCE}","type":"com.example.order","subject":"orders/7","time":"2026-01-02T03:04:05.123456789Z","datacontenttype":"application/json","dataschema":"https://example.com/schemas/order.json","tenant":"acme","vip":true,"rank":-7,"data":{"big":${BIG_INTEGER},"negative":-98765432109876543210,"price":12.50,"huge":1.0e+400,"list":[1,2,3]}}`,
  `{"specversion":"1.0","id":"j-2","source":"${JSONL_SOURCE}","type":"com.example.note","time":"0001-01-01T00:00:00Z","datacontenttype":"text/plain","data":"plain text, not JSON: ü"}`,
  `{"specversion":"1.0","id":"j-3","source":"${JSONL_SOURCE}","type":"com.example.blob","datacontenttype":"application/octet-stream","data_base64":"AAEC/f7/"}`,
  `{"specversion":"1.0","id":"j-4","source":"${JSONL_SOURCE}","type":"com.example.bare"}`,
  `{"specversion":"1.0","id":"j-5","source":"${JSONL_SOURCE}","type":"com.example.list","time":"9999-12-31T23:59:59.999999999Z","datacontenttype":"application/json","vip":false,"data":[${BIG_INTEGER}123,{"deep":[null,false,-0.0]}]}`,
];

/**
 * A CloudEvents JSON line as what it means: its attributes as parsed JSON, and its data as bytes
 * (base64) or, for JSON data, as the text it was written as, so digits are compared as digits.
 */
function cloudEventView(line: string): { id: string; attributes: Record<string, unknown>; data: unknown } {
  const { data, data_base64: base64, ...attributes } = JSON.parse(line) as Record<string, unknown>;
  // The same instant may be written with more or fewer zeros in its fraction.
  if (typeof attributes.time === "string") {
    const { seconds, nanos } = timestampFromRfc3339(attributes.time);
    attributes.time = `${seconds}.${nanos}`;
  }
  const contentType = typeof attributes.datacontenttype === "string" ? attributes.datacontenttype : "";
  let view: unknown = null;
  if (typeof base64 === "string") view = { bytes: base64 };
  else if (typeof data === "string" && !isJsonContentType(contentType))
    view = { bytes: Buffer.from(data, "utf8").toString("base64") };
  else if (data !== undefined) view = { json: /,"data":(.*)}$/.exec(line)?.[1]?.replace(/\s+/g, "") };
  return { id: String(attributes.id), attributes, data: view };
}

/** Both directions: the outer stages on one major, the processor between them on the other. */
const DIRECTIONS: [string, { outer?: number; inner?: number }, [number, number, number]][] = [
  ["v1 source -> v2 processor -> v1 consumer", { outer: 1 }, [1, 2, 1]],
  ["v2 source -> v1 processor -> v2 consumer", { inner: 1 }, [2, 1, 2]],
];

const KEEP_ALL = `{ expression: "true" }`;

describe("an edge between contract majors converts, and every event arrives intact", () => {
  const dir = tempDir("mixed-majors");
  afterAll(() => dir.remove());

  it.each(DIRECTIONS)(
    "%s: every attribute, extension type and kind of data",
    async (_name, { outer, inner }, spoken) => {
      const name = `typed-${spoken.join("")}`;
      const out = join(dir.path, `${name}.jsonl`);
      const stages: [Stage, Stage, Stage] = [
        { id: "typed", command: TYPED_SOURCE, major: outer },
        { id: "keep", command: FILTER, major: inner, config: KEEP_ALL },
        {
          id: "rec",
          command: TYPED_RECORDER,
          major: outer,
          config: `{ path: ${JSON.stringify(out)} }`,
        },
      ];
      const { summary, file } = await runChain(dir, name, stages);
      expect(majors(summary)).toEqual({ typed: spoken[0], keep: spoken[1], rec: spoken[2] });
      expect(byId(records(out))).toEqual(sent());
      expect(deadLetters(dir.path)).toEqual([]);
      await expectMajorsShown(dir, file, stages, spoken);
    },
    60_000,
  );

  it.each(DIRECTIONS)(
    "%s: CloudEvents JSON lines come out as they went in, JSON data digit for digit",
    async (_name, { outer, inner }, spoken) => {
      const name = `jsonl-${spoken.join("")}`;
      const input = dir.file(`${name}-in.jsonl`, `${JSONL_EVENTS.join("\n")}\n`);
      const out = join(dir.path, `${name}-out.jsonl`);
      const { summary } = await runChain(dir, name, [
        {
          id: "file",
          command: SOURCE_FILE,
          major: outer,
          config: `{ path: ${JSON.stringify(input)}, format: cloudevents, invalidLines: fail }`,
        },
        { id: "keep", command: FILTER, major: inner, config: KEEP_ALL },
        { id: "out", command: CONSUMER_FILE, major: outer, config: `{ path: ${JSON.stringify(out)} }` },
      ]);
      expect(majors(summary)).toEqual({ file: spoken[0], keep: spoken[1], out: spoken[2] });
      const received = lines(out);
      expect(byId(received.map(cloudEventView))).toEqual(byId(JSONL_EVENTS.map(cloudEventView)));
      expect(received.find((line) => line.includes('"id":"j-1"'))).toContain(`"big":${BIG_INTEGER},`);
    },
    60_000,
  );
});

function pythonServices(): MachineRequirement {
  const generated = spawnSync(PYTHON, [join(EXAMPLES, "generate.py")], { encoding: "utf8" });
  if (generated.error) return { available: false, reason: `${PYTHON}: ${generated.error.message}` };
  if (generated.status !== 0)
    return { available: false, reason: `generate.py: ${`${generated.stdout}${generated.stderr}`.trim()}` };
  const grpc = spawnSync(PYTHON, ["-c", "import grpc, yaml"], { encoding: "utf8" });
  return grpc.status === 0
    ? { available: true }
    : {
        available: false,
        reason: `${PYTHON} cannot import grpc and yaml: ${grpc.stderr.trim().split("\n").at(-1)}`,
      };
}

withMachineRequirement(
  "The Python example services (Debian's python3-grpcio and protoc)",
  pythonServices(),
  "apt-get install python3-grpcio python3-protobuf python3-grpc-tools protobuf-compiler python3-yaml (as .ci/run does)",
  () => {
    const dir = tempDir("mixed-majors-python");
    afterAll(() => dir.remove());
    // The Python services speak only v1 and know nothing of FLOW_CONTRACT_MAJORS: the services
    // nobody rebuilt. PYTHONUNBUFFERED stays unset, as on a machine that does not set it.
    const env = { PYTHONUNBUFFERED: "" };

    it("Python v1 source -> v2 processor -> Python v1 consumer: every event arrives as the source made it", async () => {
      const total = 250;
      const out = join(dir.path, "counted.jsonl");
      const stages: [Stage, Stage, Stage] = [
        { id: "count", command: python("counter_source.py"), config: `{ count: ${total}, idPrefix: "c-" }` },
        { id: "keep", command: FILTER, config: `{ expression: "data.n > 0" }` },
        { id: "out", command: python("jsonl_consumer.py"), config: `{ path: ${JSON.stringify(out)} }` },
      ];
      const { summary, file } = await runChain(dir, "python-counter", stages, {
        head: "defaults: { batch: { maxSize: 100 } }",
        env,
      });
      expect(majors(summary)).toEqual({ count: 1, keep: 2, out: 1 });
      await expectMajorsShown(dir, file, stages, [1, 2, 1], env);

      const events = lines(out).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(events.map((event) => event.id)).toEqual(
        Array.from({ length: total }, (_unused, i) => `c-${i + 1}`),
      );
      events.forEach((event, index) => {
        const n = index + 1;
        expect(event).toEqual({
          specversion: "1.0",
          id: `c-${n}`,
          source: "urn:flow:example:python-counter",
          type: "com.example.counter",
          datacontenttype: "application/json",
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/),
          data: { n, text: `event ${n}` },
        });
      });
    }, 120_000);

    it("v2 source -> Python v1 processor -> v2 consumer: intact, and its dead letters too", async () => {
      const out = join(dir.path, "upper.jsonl");
      const { summary } = await runChain(
        dir,
        "python-upper",
        [
          { id: "typed", command: TYPED_SOURCE },
          {
            id: "upper",
            command: python("uppercase_processor.py"),
            config: `{ field: ${SHOUT_FIELD}, extension: uppercased }`,
          },
          { id: "rec", command: TYPED_RECORDER, config: `{ path: ${JSON.stringify(out)} }` },
        ],
        { head: "deadLetters: { allow: 2 }", env },
      );
      expect(majors(summary)).toEqual({ typed: 2, upper: 1, rec: 2 });

      // The processor's own verdicts: data that says JSON (or says nothing, which the CloudEvents
      // JSON format takes for JSON) but is none is a dead letter; the shout field is upper-cased.
      const { "mm-4": notUtf8, "mm-8": untyped, "mm-9": shout, ...unchanged } = sent();
      expect(
        deadLetters(dir.path).map((letter) => ({
          stage: letter.stage,
          id: letter.event.id,
          reason: letter.reason,
        })),
      ).toEqual([
        { stage: "upper", id: notUtf8?.id, reason: expect.stringMatching(/^data is not JSON/) },
        { stage: "upper", id: untyped?.id, reason: expect.stringMatching(/^data is not JSON/) },
      ]);
      expect(byId(records(out))).toEqual({
        ...unchanged,
        "mm-9": {
          ...shout,
          extensions: { uppercased: ["boolean", true] },
          data: Buffer.from(`{"${SHOUT_FIELD}":"HEY","big":${BIG_INTEGER}}`).toString("base64"),
        },
      });
    }, 120_000);
  },
);
