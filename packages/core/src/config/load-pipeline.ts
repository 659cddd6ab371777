import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UserError } from "@flow/errors";
import { LineCounter, parseDocument } from "yaml";
import { DEFAULT_STATE_STORE_URL } from "../state/state-store-url";
import { checkBackoffBounds } from "./backoff-rules";
import { checkContractMajors, withoutUnspokenMajor } from "./contract-major-rules";
import { readDeadLetterAllowance } from "./dead-letter-allowance";
import type { Environment } from "./env-interpolation";
import { directPathSwitch, STREAM_BUNDLES_ENV, switchedOff } from "./environment-switches";
import { checkStageGraph } from "./graph-rules";
import { interpolateDocument } from "./interpolate-document";
import { rememberPipelineSource } from "./locate-stage-config";
import { rememberLocatorLocation } from "./locator-location";
import type {
  DeadLetterAllowance,
  DeliveryGuarantee,
  Pipeline,
  PipelineStage,
  ServiceLocator,
} from "./pipeline-model";
import { type PipelineProblem, problemsToUserErrors } from "./pipeline-problem";
import { isRecord, type RawStage, readRawStages, stageName, stagePointer } from "./raw-stages";
import { attachSalvage } from "./salvaged-stages";
import { schemaProblems } from "./schema-problems";
import { resolveServiceLocator, SERVICE_LOCATOR_FIELDS } from "./service-locator";
import { consumersDownstream, outputsById, topologicalOrder } from "./stage-graph";
import {
  BUILT_IN_STAGE_SETTINGS,
  DEFAULT_DEAD_LETTER_PATH,
  DEFAULT_STATE_UNREACHABLE_LIMIT_MS,
  mergeStageSettings,
  type PartialStageSettings,
  settingsOfFamily,
} from "./stage-settings-defaults";
import { resolveStateStoreUrl } from "./state-store-url";
import { YamlNodeLocator } from "./yaml-node-locator";
import { yamlSyntaxProblems, yamlWarnings } from "./yaml-syntax-problems";

export interface LoadPipelineOptions {
  /** Variables for `${NAME}`; process.env by default. */
  env?: Environment;
}

export interface ParsePipelineOptions extends LoadPipelineOptions {
  /** The name messages use for the file (as the user wrote it). */
  file: string;
  /** Folder relative paths are resolved against; the file's folder by default. */
  baseDir?: string;
}

/**
 * Reads, interpolates and checks a pipeline file. Returns the resolved model, or throws
 * UserErrors holding every problem at once, each message starting with `file:line:col:`.
 */
export function loadPipeline(path: string, options: LoadPipelineOptions = {}): Pipeline {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === "ENOENT"
        ? `${path}: no such pipeline file`
        : `${path}: cannot read the pipeline file (${code ?? String(error)})`,
      { hint: "give the path of a pipeline YAML file, e.g. examples/quickstart.yaml" },
    );
  }
  return parsePipeline(text, { ...options, file: path });
}

/** As loadPipeline, from text already read; `file` names it in messages and anchors relative paths. */
export function parsePipeline(text: string, options: ParsePipelineOptions): Pipeline {
  const { file } = options;
  const absoluteFile = resolve(file);
  const baseDir = options.baseDir ?? dirname(absoluteFile);
  const environment = options.env ?? process.env;

  const lineCounter = new LineCounter();
  // Merge keys (`<<: *shared`) are YAML 1.1, but compose files made them the usual way to share
  // a block between entries, so they are accepted.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const locator = new YamlNodeLocator(file, document, lineCounter);

  const syntax = yamlSyntaxProblems(document, text, locator);
  if (syntax.length > 0) throw problemsToUserErrors(file, syntax);

  const interpolation = interpolateDocument(document, text, environment, locator);
  const problems: PipelineProblem[] = [...interpolation.problems];
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // Only an alias bomb gets here (aliases without anchors were reported above).
    throw problemsToUserErrors(file, [
      { location: locator.locateOffset(0), message: `invalid YAML: ${(error as Error).message}` },
    ]);
  }
  problems.push(...schemaProblems(data, locator, (node) => interpolation.failedNodes.has(node)));

  const stages = readRawStages(data);
  const graph = checkStageGraph(stages, locator);
  problems.push(...graph.errors);
  const locators = new Map<RawStage, ServiceLocator>();
  for (const stage of stages) {
    const resolution = resolveServiceLocator(stage.fields, baseDir);
    if (resolution.locator) {
      locators.set(stage, resolution.locator);
      const field = SERVICE_LOCATOR_FIELDS.find((name) => stage.fields[name] !== undefined);
      if (field)
        rememberLocatorLocation(resolution.locator, locator.locate(stagePointer(stage, field)).location);
    }
    for (const found of resolution.problems) {
      problems.push({
        location: locator.locate(stagePointer(stage, found.field)).location,
        message: `${stageName(stage)} ${found.field}: ${found.message}`,
        ...(found.hint ? { hint: found.hint } : {}),
      });
    }
  }
  problems.push(...checkBackoffBounds(data, stages, locator));
  problems.push(...checkContractMajors(data, stages, locator));
  const stateUrl = stringAt(data, "state", "url") ?? DEFAULT_STATE_STORE_URL;
  const state = resolveStateStoreUrl(stateUrl, baseDir);
  if (!state && /^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(stateUrl)) {
    problems.push({
      location: locator.locate(["state", "url"]).location,
      message: `state.url: found ${JSON.stringify(stateUrl)}, expected sqlite:<path> or postgres://user@host/db[?schema=name]`,
    });
  }
  if (problems.length > 0 || !state) {
    const error = problemsToUserErrors(file, problems);
    const partial = salvageStages(stages, locators, data, file, baseDir, locator);
    throw partial ? attachSalvage(error, partial) : error;
  }

  // From here the file is known to be valid: the casts below rely on the schema having passed.
  const root = data as Record<string, unknown>;
  const metadata = root.metadata as { name: string; description?: string };
  const defaults = mergeStageSettings(
    BUILT_IN_STAGE_SETTINGS,
    root.defaults as PartialStageSettings | undefined,
  );
  const nodes = stages.map((stage) => ({
    id: stage.id as string,
    family: stage.family,
    inputs: stage.inputs.map((i) => i.id),
  }));
  const outputs = outputsById(nodes);
  const modelStages: PipelineStage[] = stages.map((stage) => ({
    family: stage.family,
    id: stage.id as string,
    locator: locators.get(stage) as ServiceLocator,
    config: isRecord(stage.fields.config) ? stage.fields.config : {},
    inputs: stage.inputs.map((input) => input.id),
    outputs: outputs.get(stage.id as string) ?? [],
    settings: settingsOfFamily(
      stage.family,
      mergeStageSettings(defaults, stage.fields as PartialStageSettings),
    ),
    location: locator.locate(stagePointer(stage)).location,
  }));
  const pipeline: Pipeline = {
    apiVersion: "flow/v1",
    kind: "Pipeline",
    name: metadata.name,
    ...(metadata.description !== undefined ? { description: metadata.description } : {}),
    file: absoluteFile,
    baseDir,
    state,
    stateUnreachableLimitMs:
      numberAt(data, "state", "unreachableLimitMs") ?? DEFAULT_STATE_UNREACHABLE_LIMIT_MS,
    delivery: (root.delivery as DeliveryGuarantee | undefined) ?? "at-least-once",
    directPath: directPathSwitch(root.directPath as boolean | undefined, environment),
    streamBundles: !switchedOff(environment, STREAM_BUNDLES_ENV),
    deadLetters: {
      path: resolve(baseDir, stringAt(data, "deadLetters", "path") ?? DEFAULT_DEAD_LETTER_PATH),
      ...deadLetterAllowanceOf(root),
    },
    defaults,
    stages: modelStages,
    topologicalOrder: topologicalOrder(nodes),
    consumersDownstream: consumersDownstream(nodes),
    warnings: [...yamlWarnings(document, locator), ...graph.warnings],
  };
  rememberPipelineSource(pipeline, {
    locator,
    stagePointers: new Map(stages.map((stage) => [stage.id as string, stagePointer(stage)])),
  });
  return pipeline;
}

/** The well-formed stages of a file that has problems elsewhere (see salvaged-stages.ts). */
function salvageStages(
  stages: RawStage[],
  locators: Map<RawStage, ServiceLocator>,
  data: unknown,
  file: string,
  baseDir: string,
  locator: YamlNodeLocator,
): Pipeline | undefined {
  const seen = new Set<string>();
  const kept = stages.filter((stage) => {
    if (typeof stage.id !== "string" || seen.has(stage.id) || !locators.has(stage)) return false;
    seen.add(stage.id);
    return stage.fields.config === undefined || isRecord(stage.fields.config);
  });
  if (kept.length === 0) return undefined;
  const settingsOf = (stage: RawStage): ReturnType<typeof mergeStageSettings> => {
    try {
      return withoutUnspokenMajor(
        stage.family,
        settingsOfFamily(
          stage.family,
          mergeStageSettings(BUILT_IN_STAGE_SETTINGS, stage.fields as PartialStageSettings),
        ),
      );
    } catch {
      return BUILT_IN_STAGE_SETTINGS;
    }
  };
  const pipeline: Pipeline = {
    apiVersion: "flow/v1",
    kind: "Pipeline",
    name: stringAt(data, "metadata", "name") ?? "unnamed",
    file: resolve(file),
    baseDir,
    state: { kind: "sqlite", url: "sqlite::memory:", path: ":memory:" },
    stateUnreachableLimitMs: DEFAULT_STATE_UNREACHABLE_LIMIT_MS,
    deadLetters: { path: resolve(baseDir, DEFAULT_DEAD_LETTER_PATH) },
    delivery: "at-least-once",
    directPath: true,
    defaults: BUILT_IN_STAGE_SETTINGS,
    stages: kept.map((stage) => ({
      family: stage.family,
      id: stage.id as string,
      locator: locators.get(stage) as ServiceLocator,
      config: isRecord(stage.fields.config) ? stage.fields.config : {},
      inputs: stage.inputs.map((input) => input.id).filter((id) => seen.has(id)),
      outputs: [],
      settings: settingsOf(stage),
      location: locator.locate(stagePointer(stage)).location,
    })),
    topologicalOrder: [],
    consumersDownstream: {},
    warnings: [],
  };
  rememberPipelineSource(pipeline, {
    locator,
    stagePointers: new Map(kept.map((stage) => [stage.id as string, stagePointer(stage)])),
  });
  return pipeline;
}

function deadLetterAllowanceOf(root: Record<string, unknown>): { allow?: DeadLetterAllowance } {
  const allow = isRecord(root.deadLetters) ? readDeadLetterAllowance(root.deadLetters.allow) : undefined;
  return allow ? { allow } : {};
}

function stringAt(data: unknown, group: string, field: string): string | undefined {
  const value = isRecord(data) && isRecord(data[group]) ? data[group][field] : undefined;
  return typeof value === "string" ? value : undefined;
}

function numberAt(data: unknown, group: string, field: string): number | undefined {
  const value = isRecord(data) && isRecord(data[group]) ? data[group][field] : undefined;
  return typeof value === "number" ? value : undefined;
}
