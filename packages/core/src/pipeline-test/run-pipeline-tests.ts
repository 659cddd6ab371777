import type { FlowEvent } from "@flow/sdk";
import type { Logger } from "pino";
import { closestMatch } from "../config/did-you-mean";
import { loadPipeline } from "../config/load-pipeline";
import { stageConfigError } from "../config/locate-stage-config";
import type { Pipeline } from "../config/pipeline-model";
import { type PipelineProblem, problemsToUserErrors } from "../config/pipeline-problem";
import { checkExpectation, type ExpectationFailure, type StageOutput } from "./expectations";
import { type PipelineTestCase, type PipelineTestFile, readPipelineTestFile } from "./pipeline-test-file";
import { ProcessorsUnderTest } from "./processors-under-test";

export interface PipelineTestCaseResult {
  name: string;
  passed: boolean;
  durationMs: number;
  failures: ExpectationFailure[];
  /** The test could not be carried out (a processor failed for good); `failures` is then empty. */
  error?: string;
}

export interface PipelineTestFileResult {
  /** The test file as it was named. */
  file: string;
  /** The pipeline under test (absolute). */
  pipeline: string;
  passed: boolean;
  tests: PipelineTestCaseResult[];
}

/**
 * Runs a pipeline test file: reads and checks it and its pipeline (throwing every problem at once
 * as a UserErrors, exit 2), starts the pipeline's processors as a run does, feeds each test's
 * events through them and checks each expectation. A test that fails does not stop the others.
 */
export async function runPipelineTestFile(file: string, logger: Logger): Promise<PipelineTestFileResult> {
  const tests = readPipelineTestFile(file);
  const pipeline = loadPipeline(tests.pipelineFile);
  const problems = stageProblems(tests, pipeline);
  if (problems.length > 0) throw problemsToUserErrors(file, problems);
  const processors = new ProcessorsUnderTest(pipeline, logger, (problem) =>
    stageConfigError(pipeline, problem.stageId, problem.pointer ?? "", problem.message),
  );
  await processors.start();
  const results: PipelineTestCaseResult[] = [];
  try {
    for (const test of tests.tests) results.push(await runCase(test, pipeline, processors));
  } finally {
    await processors.stop();
  }
  return {
    file,
    pipeline: pipeline.file,
    passed: results.every((result) => result.passed),
    tests: results,
  };
}

async function runCase(
  test: PipelineTestCase,
  pipeline: Pipeline,
  processors: ProcessorsUnderTest,
): Promise<PipelineTestCaseResult> {
  const started = Date.now();
  const inputs = new Map<string, FlowEvent[]>();
  for (const input of test.inputs) {
    const source = input.source ?? onlySource(pipeline);
    inputs.set(source, [...(inputs.get(source) ?? []), ...input.events]);
  }
  let outputs: Map<string, StageOutput>;
  try {
    outputs = await processors.feed(inputs);
  } catch (error) {
    return {
      name: test.name,
      passed: false,
      durationMs: Date.now() - started,
      failures: [],
      error: (error as Error).message,
    };
  }
  const failures = test.expectations.flatMap((expectation) =>
    checkExpectation(expectation, outputs.get(expectation.stage) as StageOutput),
  );
  return { name: test.name, passed: failures.length === 0, durationMs: Date.now() - started, failures };
}

/** Stage ids the test file names that the pipeline does not have, with a "did you mean". */
function stageProblems(tests: PipelineTestFile, pipeline: Pipeline): PipelineProblem[] {
  const ids = pipeline.stages.map((stage) => stage.id);
  const sources = pipeline.stages.filter((stage) => stage.family === "source").map((stage) => stage.id);
  const problems: PipelineProblem[] = [];
  const unknown = (id: string, pointer: string, part: "value" | "key", among: string[], what: string) => {
    const guess = closestMatch(id, among);
    problems.push({
      location: tests.locator.locate(pointer, part).location,
      message: `${pipeline.file} has no ${what} "${id}"${guess ? `; did you mean "${guess}"?` : ""}`,
      hint: `its ${what}s: ${among.join(", ")}`,
    });
  };
  for (const test of tests.tests) {
    for (const input of test.inputs) {
      if (input.source === undefined && sources.length !== 1) {
        problems.push({
          location: tests.locator.locate(input.pointer).location,
          message: `the pipeline has ${sources.length} sources: say which one these events come from`,
          hint: `add \`source: <id>\`, one of ${sources.join(", ")}`,
        });
      } else if (input.source !== undefined && !sources.includes(input.source)) {
        unknown(input.source, `${input.pointer}/source`, "value", sources, "source");
      }
    }
    for (const expectation of test.expectations) {
      if (!ids.includes(expectation.stage))
        unknown(expectation.stage, expectation.pointer, "key", ids, "stage");
    }
  }
  return problems;
}

function onlySource(pipeline: Pipeline): string {
  return (pipeline.stages.find((stage) => stage.family === "source") as { id: string }).id;
}
