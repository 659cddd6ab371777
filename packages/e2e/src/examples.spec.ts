import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Pipeline, type PipelineStage, parsePipeline } from "@flow/core";
import { ConfigValidator } from "@flow/sdk/internal";

type JsonSchema = Record<string, unknown>;

import { type FlowResult, REPOSITORY_ROOT, repositoryCheckout, runFlow } from "./test-support/flow-cli";

// Every pipeline the documentation shows (README.md, docs/*.md, each package's README, examples/)
// is checked as a user would use it: it must pass `flow validate`, and one whose services need
// no outside system is run and must deliver events to each consumer. New READMEs are picked up
// by the file patterns below, nothing to register.

/** Services that run with nothing outside Flow: such examples are run, not only validated. */
const SELF_CONTAINED = new Set([
  "@flow/source-generator",
  "@flow/source-file",
  "@flow/processor-filter",
  "@flow/processor-map",
  "@flow/consumer-file",
  "@flow/consumer-sqlite",
]);

interface Example {
  /** `docs/pipeline.md:91`: where the block starts. */
  where: string;
  text: string;
}

function documentationFiles(): string[] {
  const inFolder = (folder: string, pick: (name: string) => string | undefined) => {
    const dir = join(REPOSITORY_ROOT, folder);
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const file = pick(entry.name);
      return file && (entry.isFile() || entry.isDirectory()) ? [join(folder, file)] : [];
    });
  };
  const readmes = ["sources", "processors", "consumers", "packages"].flatMap((family) =>
    inFolder(family, (name) => `${name}/README.md`),
  );
  return [
    "README.md",
    ...inFolder("docs", (name) => (name.endsWith(".md") ? name : undefined)),
    ...readmes,
  ].filter((file) => {
    try {
      readFileSync(join(REPOSITORY_ROOT, file));
      return true;
    } catch {
      return false;
    }
  });
}

/** The ```yaml blocks of a Markdown file that are pipelines (apiVersion: flow/v1). */
function pipelineBlocks(file: string): Example[] {
  const text = readFileSync(join(REPOSITORY_ROOT, file), "utf8");
  return [...text.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)]
    .filter((match) => /^apiVersion: flow\/v1\s*$/m.test(match[1] as string))
    .map((match) => ({
      where: `${file}:${text.slice(0, match.index).split("\n").length}`,
      text: match[1] as string,
    }));
}

function examples(): Example[] {
  const fromDocs = documentationFiles().flatMap(pipelineBlocks);
  const files = readdirSync(join(REPOSITORY_ROOT, "examples"))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => ({
      where: `examples/${name}`,
      text: readFileSync(join(REPOSITORY_ROOT, "examples", name), "utf8"),
    }));
  return [...fromDocs, ...files];
}

const usesPackage = (stage: PipelineStage) => (stage.locator.kind === "use" ? stage.locator.packageName : "");
const selfContained = (stage: PipelineStage) => SELF_CONTAINED.has(usesPackage(stage));

/**
 * Values for the examples' `${NAME}` references without a default. A file an example reads gets
 * a real file of a few events, so the example can run.
 */
function exampleEnvironment(text: string, dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, name] of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    if (!name) continue;
    if (/FILE$/.test(name)) {
      const file = join(dir, `${name.toLowerCase()}.jsonl`);
      writeFileSync(file, ["1", "2", "3"].map((n) => `{"order":"o-${n}","amount":${n}00}\n`).join(""));
      env[name] = file;
    } else env[name] = "example";
  }
  return env;
}

/** The stages of `pipeline` that need no outside system, as a pipeline of their own (JSON is YAML). */
function selfContainedPart(pipeline: Pipeline): string | undefined {
  let stages = pipeline.stages.filter(selfContained).map((stage) => ({
    family: stage.family,
    id: stage.id,
    use: usesPackage(stage),
    config: stage.config,
    inputs: stage.inputs,
  }));
  // Dropping a stage can leave another without inputs: drop until every input is kept.
  for (let before = -1; before !== stages.length; ) {
    before = stages.length;
    const ids = new Set(stages.map((stage) => stage.id));
    stages = stages
      .map((stage) => ({ ...stage, inputs: stage.inputs.filter((input) => ids.has(input)) }))
      .filter((stage) => stage.family === "source" || stage.inputs.length > 0);
  }
  const of = (family: string) =>
    stages
      .filter((stage) => stage.family === family)
      .map(({ family: _family, inputs, ...stage }) => ({
        ...stage,
        ...(inputs.length > 0 ? { inputs } : {}),
      }));
  if (of("source").length === 0 || of("consumer").length === 0) return undefined;
  return JSON.stringify({
    apiVersion: "flow/v1",
    kind: "Pipeline",
    metadata: { name: pipeline.name },
    sources: of("source"),
    processors: of("processor"),
    consumers: of("consumer"),
  });
}

const configSchemas = new Map<string, Promise<JsonSchema>>();

/** The config schema a workspace service publishes (`flow describe <package> --json`), asked once. */
function configSchemaOf(packageName: string, cwd: string): Promise<JsonSchema> {
  let schema = configSchemas.get(packageName);
  if (!schema) {
    schema = runFlow(["describe", packageName, "--json"], { cwd }).then((result) => {
      if (result.code !== 0)
        throw new Error(`flow describe ${packageName} exited ${result.code}:\n${result.stderr}`);
      return (JSON.parse(result.stdout) as { configSchema: JsonSchema }).configSchema;
    });
    configSchemas.set(packageName, schema);
  }
  return schema;
}

describe("every pipeline example in the documentation", () => {
  const checkout = repositoryCheckout("examples");
  afterAll(() => checkout.remove());
  const all = examples();

  it("finds the examples of README.md, docs/ and the packages' READMEs", () => {
    const sources = new Set(all.map((example) => example.where.split(":")[0]));
    expect([...sources]).toEqual(expect.arrayContaining(["README.md", "docs/pipeline.md"]));
    expect(all.length).toBeGreaterThanOrEqual(4);
  });

  it.each(all.map((example) => [example.where, example]))(
    "%s validates, and runs when its services need no outside system",
    async (_where, example) => {
      const { text, where } = example as Example;
      const dir = join(checkout.path, "examples-under-test", where.replace(/[^A-Za-z0-9]+/g, "-"));
      mkdirSync(dir, { recursive: true });
      const file = join(dir, "pipeline.yaml");
      writeFileSync(file, text);
      const env = exampleEnvironment(text, dir);
      const options = { cwd: dir, env };
      const expectExit = (result: FlowResult, step: string) => {
        if (result.code !== 0)
          throw new Error(
            `${where}: ${step} exited ${result.code}, expected 0:\n${result.stdout}${result.stderr}`,
          );
      };

      // Every example parses against the pipeline schema and its graph rules.
      const offline = await runFlow(["validate", file, "--offline"], options);
      expectExit(offline, "flow validate --offline");

      const pipeline = parsePipeline(text, { file, env });
      // Each config of a service Flow ships matches the JSON Schema the service publishes.
      for (const stage of pipeline.stages.filter((each) => each.locator.kind === "use")) {
        const issues = new ConfigValidator(await configSchemaOf(usesPackage(stage), checkout.path)).check(
          JSON.stringify(stage.config),
        ).issues;
        expect({ stage: stage.id, issues }).toEqual({ stage: stage.id, issues: [] });
      }

      if (!pipeline.stages.every((stage) => stage.locator.kind === "use")) {
        // address:, dns:, registry: and command: name services that exist only in the reader's
        // system: the stages Flow ships are still checked, with their configs, on their own.
        const part = selfContainedPart(pipeline);
        if (part === undefined) return;
        const partFile = join(dir, "self-contained-part.yaml");
        writeFileSync(partFile, part);
        const validated = await runFlow(["validate", partFile], options);
        expectExit(validated, "flow validate of the stages Flow ships");
        return;
      }

      // Brokers and databases: the example names streams, tables or queues the reader creates
      // first, so what validate-only would find there is the reader's setup, not the example's.
      if (!pipeline.stages.every(selfContained)) return;
      const validated = await runFlow(["validate", file], options);
      expectExit(validated, "flow validate");

      const run = await runFlow(["run", file, "--json"], options);
      expectExit(run, "flow run");
      const summary = JSON.parse(run.stdout) as {
        stages: { stageId: string; family: string; eventsIn: number }[];
      };
      const consumers = summary.stages.filter((stage) => stage.family === "consumer");
      // An example that writes nothing (a filter no generated event passes) teaches nothing.
      for (const stage of consumers)
        expect({ stage: stage.stageId, wrote: stage.eventsIn > 0 }).toEqual({
          stage: stage.stageId,
          wrote: true,
        });
    },
    60_000,
  );
});
