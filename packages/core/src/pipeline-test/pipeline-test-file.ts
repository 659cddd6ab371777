import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UserError } from "@flow/errors";
import type { FlowEvent } from "@flow/sdk";
import Ajv, { type ErrorObject } from "ajv";
import { LineCounter, parseDocument } from "yaml";
import { formatJsonPointer } from "../config/json-pointer";
import type { PipelineProblem } from "../config/pipeline-problem";
import { problemsToUserErrors } from "../config/pipeline-problem";
import type { SourceLocation } from "../config/source-location";
import { YamlNodeLocator } from "../config/yaml-node-locator";
import { pipelineTestSchema } from "./pipeline-test-schema";
import { testEvent } from "./test-event";

/** A pipeline test file, read and checked (docs/testing-pipelines.md describes the format). */
export interface PipelineTestFile {
  /** The test file as the user named it. */
  file: string;
  /** Absolute path of the pipeline under test. */
  pipelineFile: string;
  tests: PipelineTestCase[];
  /** Where things are written, for problems found once the pipeline is known (stage ids). */
  locator: YamlNodeLocator;
}

export interface PipelineTestCase {
  name: string;
  location: SourceLocation;
  inputs: TestInput[];
  expectations: StageExpectation[];
}

export interface TestInput {
  /** The source stage id; undefined: the pipeline's only source. */
  source?: string;
  events: FlowEvent[];
  /** JSON Pointer of the entry in the file (for "no such source" problems). */
  pointer: string;
}

export interface StageExpectation {
  stage: string;
  /** JSON Pointer of the stage's key under `expect`. */
  pointer: string;
  location: SourceLocation;
  count?: number;
  equal?: Record<string, unknown>[];
  contains?: Record<string, unknown>[];
  match?: Record<string, unknown>;
  deadLetters?: { reason?: string; event?: Record<string, unknown> }[];
}

interface RawFile {
  pipeline?: string;
  tests: {
    name: string;
    input: RawInput | RawInput[];
    expect: Record<string, Omit<StageExpectation, "stage" | "pointer" | "location">>;
  }[];
}
type RawInput = { source?: string; events?: Record<string, unknown>[]; file?: string };

const validate = new Ajv({ allErrors: true, verbose: true, strict: false }).compile(pipelineTestSchema);

/** The conventional name of the tests of `pipeline.yaml`: `pipeline.test.yaml` beside it. */
export function testFileOf(pipelineFile: string): string {
  return join(dirname(pipelineFile), `${basename(pipelineFile).replace(/\.ya?ml$/, "")}.test.yaml`);
}

/** Whether a file name is a pipeline test file by the convention (`*.test.yaml`, `*.test.yml`). */
export function isTestFileName(file: string): boolean {
  return /\.test\.ya?ml$/.test(file);
}

/**
 * Reads a test file: YAML syntax, the schema, every event and every events file. All problems
 * come back at once as `file:line:col: …` (a UserErrors, exit 2).
 */
export function readPipelineTestFile(file: string): PipelineTestFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read the test file (${(error as NodeJS.ErrnoException).code})`, {
      hint: "name a pipeline test file (<pipeline>.test.yaml) or the pipeline file beside it",
    });
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const locator = new YamlNodeLocator(file, document, lineCounter);
  const problems: PipelineProblem[] = document.errors.map((error) => ({
    location: { file, ...lineCounterPosition(lineCounter, error.pos[0]) },
    message: error.message.split("\n")[0] as string,
  }));
  if (problems.length > 0) throw problemsToUserErrors(file, problems);
  const data = document.toJS() as unknown;
  if (!validate(data)) {
    throw problemsToUserErrors(
      file,
      (validate.errors ?? []).filter(isReportable).map((error) => schemaProblem(error, locator)),
    );
  }
  const raw = data as RawFile;
  const baseDir = dirname(resolve(file));
  const pipelineFile = raw.pipeline
    ? resolve(baseDir, raw.pipeline)
    : join(baseDir, basename(file).replace(/\.test\.ya?ml$/, ".yaml"));
  if (!existsSync(pipelineFile)) {
    const at = raw.pipeline ? locator.locate("/pipeline").location : { file, line: 1, column: 1 };
    problems.push({
      location: at,
      message: `the pipeline under test, ${pipelineFile}, does not exist`,
      hint: raw.pipeline
        ? "`pipeline:` is relative to the test file"
        : "name it with `pipeline: <file>`, or name the test file <pipeline>.test.yaml beside the pipeline",
    });
  }
  const tests = raw.tests.map((test, index): PipelineTestCase => {
    const pointer = `/tests/${index}`;
    const entries = Array.isArray(test.input) ? test.input : [test.input];
    const inputs = entries.map((entry, at) => {
      const entryPointer = Array.isArray(test.input) ? `${pointer}/input/${at}` : `${pointer}/input`;
      return {
        source: entry.source,
        pointer: entryPointer,
        events: inputEvents(entry, entryPointer, baseDir, locator, problems),
      };
    });
    const expectations = Object.entries(test.expect).map(([stage, expectation]) => {
      const stagePointer = formatJsonPointer(["tests", String(index), "expect", stage]);
      return {
        stage,
        pointer: stagePointer,
        location: locator.locate(stagePointer, "key").location,
        ...expectation,
      };
    });
    return { name: test.name, location: locator.locate(pointer).location, inputs, expectations };
  });
  const names = new Map<string, number>();
  for (const [index, test] of tests.entries()) {
    if (names.has(test.name))
      problems.push({
        location: locator.locate(`/tests/${index}/name`).location,
        message: `a second test named "${test.name}" (the first is test ${(names.get(test.name) ?? 0) + 1})`,
        hint: "give each test its own name, so a failure says which one",
      });
    names.set(test.name, index);
  }
  if (problems.length > 0) throw problemsToUserErrors(file, problems);
  return { file, pipelineFile, tests, locator };
}

function inputEvents(
  entry: RawInput,
  pointer: string,
  baseDir: string,
  locator: YamlNodeLocator,
  problems: PipelineProblem[],
): FlowEvent[] {
  if (entry.events) {
    return entry.events.flatMap((value, index) => {
      try {
        return [testEvent(value, index + 1)];
      } catch (error) {
        problems.push({
          location: locator.locate(`${pointer}/events/${index}`).location,
          message: `event ${index + 1}: ${(error as Error).message}`,
        });
        return [];
      }
    });
  }
  const where = locator.locate(`${pointer}/file`).location;
  const path = resolve(baseDir, entry.file as string);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    problems.push({
      location: where,
      message: `cannot read the events file ${path} (${(error as NodeJS.ErrnoException).code})`,
      hint: "`file:` is relative to the test file",
    });
    return [];
  }
  const events: FlowEvent[] = [];
  for (const [index, value] of fileEvents(text, path, where, problems).entries()) {
    try {
      events.push(testEvent(value.event, index + 1));
    } catch (error) {
      problems.push({ location: where, message: `${value.where}: ${(error as Error).message}` });
    }
  }
  return events;
}

/** The events of a file: one JSON array, or JSON Lines (one event per non-empty line). */
function fileEvents(
  text: string,
  path: string,
  where: SourceLocation,
  problems: PipelineProblem[],
): { event: Record<string, unknown>; where: string }[] {
  const asObject = (value: unknown, at: string) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return [{ event: value as Record<string, unknown>, where: at }];
    problems.push({ location: where, message: `${at}: an event must be a JSON object` });
    return [];
  };
  if (text.trimStart().startsWith("[")) {
    try {
      const values = JSON.parse(text) as unknown[];
      return values.flatMap((value, index) => asObject(value, `${path} event ${index + 1}`));
    } catch (error) {
      problems.push({ location: where, message: `${path}: not a JSON array (${(error as Error).message})` });
      return [];
    }
  }
  return text.split("\n").flatMap((line, index) => {
    if (line.trim() === "") return [];
    try {
      return asObject(JSON.parse(line), `${path}:${index + 1}`);
    } catch (error) {
      problems.push({
        location: where,
        message: `${path}:${index + 1}: invalid JSON (${(error as Error).message})`,
      });
      return [];
    }
  });
}

/**
 * `input` is one entry or a list (a oneOf), and an entry has `events` or `file` (a oneOf): ajv
 * reports each branch that failed; one message per input says it better.
 */
function isReportable(error: ErrorObject): boolean {
  return (
    !error.schemaPath.endsWith("/properties/input/oneOf") &&
    !error.schemaPath.endsWith("/properties/input/oneOf/1/type") &&
    !/\/oneOf\/\d+\/required$/.test(error.schemaPath)
  );
}

function schemaProblem(error: ErrorObject, locator: YamlNodeLocator): PipelineProblem {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties") {
    const field = String(params.additionalProperty);
    return {
      location: locator.locate(`${error.instancePath}/${field}`, "key").location,
      message: `unknown field "${field}"`,
      hint: `allowed here: ${Object.keys(allowedFields(error)).join(", ")}`,
    };
  }
  if (error.schemaPath === "#/definitions/input/oneOf") {
    return {
      location: locator.locate(error.instancePath).location,
      message: "an input needs either `events:` (a list) or `file:` (a file of events), not both",
    };
  }
  const message =
    error.keyword === "required"
      ? `missing required field "${params.missingProperty}"`
      : `${error.instancePath ? `${error.instancePath.split("/").pop()} ` : ""}${error.message}`;
  return { location: locator.locate(error.instancePath).location, message };
}

function allowedFields(error: ErrorObject): Record<string, unknown> {
  const parent = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
  return parent?.properties ?? {};
}

function lineCounterPosition(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}
