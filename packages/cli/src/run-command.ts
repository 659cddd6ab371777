import { resolve } from "node:path";
import {
  loadPipeline,
  openStateStore,
  PipelineMetrics,
  PipelineRunner,
  type RunResult,
  type StageCounters,
  stageConfigError,
} from "@flow/core";
import { formatUserError, isUserError } from "@flow/errors";
import type { Command } from "commander";
import pino from "pino";
import { EXIT } from "./exit-codes";
import { ProgressDisplay } from "./progress-display";

interface RunOptions {
  json?: boolean;
  progress?: boolean;
  metricsPort?: string;
  logLevel?: string;
}

/** `flow run <pipeline.yaml>`: the main job. */
export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("Run a pipeline: start or find its services, negotiate, move every event, keep checkpoints")
    .argument("<pipeline>", "the pipeline file (YAML, apiVersion flow/v1)")
    .option("--json", "print the result as JSON on stdout (logs stay on stderr)")
    .option("--no-progress", "no live display, plain structured logs even on a terminal")
    .option("--metrics-port <port>", "serve Prometheus metrics on this port (0: any free port)")
    .option("--log-level <level>", "log level: debug, info, warn, error", "info")
    .action(async (file: string, options: RunOptions) => {
      process.exitCode = await runPipeline(file, options);
    });
}

async function runPipeline(file: string, options: RunOptions): Promise<number> {
  const pipeline = loadPipeline(resolve(file));
  const live = options.progress !== false && !options.json && process.stderr.isTTY === true;
  const display = live ? new ProgressDisplay() : undefined;
  const logger = display
    ? pino({ level: "warn" }, { write: (line: string) => display.log(describeLogLine(line)) })
    : pino({ level: options.logLevel ?? "info" }, pino.destination(2));

  const store = await openStateStore(pipeline.state.url, { baseDir: pipeline.baseDir });
  const metrics = new PipelineMetrics(pipeline.name);
  const metricsServer =
    options.metricsPort !== undefined ? await metrics.serve(Number(options.metricsPort)) : undefined;
  if (metricsServer) logger.info({ url: `http://127.0.0.1:${metricsServer.port}/metrics` }, "metrics");

  const runner = new PipelineRunner({
    plan: pipeline,
    store,
    logger,
    metrics,
    describeIssue: (issue) => stageConfigError(pipeline, issue.stageId, issue.pointer ?? "", issue.message),
  });
  let lastLogged = 0;
  runner.on("progress", (stages: StageCounters[]) => {
    metrics.update(stages);
    display?.update(stages);
    if (!display && Date.now() - lastLogged >= 5000) {
      lastLogged = Date.now();
      logger.info(
        {
          stages: stages.map(({ stageId, eventsIn, eventsOut, inFlight, deadLetters, restarts }) => ({
            stageId,
            eventsIn,
            eventsOut,
            inFlight,
            deadLetters,
            restarts,
          })),
        },
        "progress",
      );
    }
  });

  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts === 1) runner.stop();
    else process.exit(EXIT.interrupted);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let result: RunResult;
  try {
    result = await runner.run();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    display?.stop();
    metricsServer?.server.close();
    await store.close();
  }

  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ...result, error: result.error?.message }, (_key, value) => (typeof value === "bigint" ? String(value) : value))}\n`,
    );
  } else {
    printSummary(result, pipeline.deadLetters.path, pipeline.stages);
  }
  if (result.status === "succeeded") return EXIT.ok;
  if (result.status === "stopped") return EXIT.interrupted;
  if (result.error && !options.json) {
    console.error(
      isUserError(result.error) ? formatUserError(result.error) : `error: ${result.error.message}`,
    );
  }
  return EXIT.findings;
}

function printSummary(
  result: RunResult,
  deadLetterPath: string,
  stages: { id: string; family: string; config: Record<string, unknown> }[],
): void {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const out = process.stderr;
  out.write(`\nrun ${result.runId} ${result.status} in ${seconds}s\n`);
  for (const stage of result.stages) {
    out.write(
      `  ${stage.stageId.padEnd(16)} ${stage.family.padEnd(9)} in ${String(stage.eventsIn).padStart(9)}  out ${String(stage.eventsOut).padStart(9)}  dead ${stage.deadLetters}  restarts ${stage.restarts}\n`,
    );
  }
  if (result.deadLetters > 0) out.write(`dead letters: ${result.deadLetters} in ${deadLetterPath}\n`);
  for (const stage of stages) {
    const path = stage.config.path;
    if (stage.family === "consumer" && typeof path === "string")
      out.write(`output of ${stage.id}: ${path}\n`);
  }
}

/** A pino JSON line as one readable line above the live display. */
function describeLogLine(line: string): string {
  try {
    const {
      level,
      msg,
      time: _time,
      pid: _pid,
      hostname: _host,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const name = Number(level) >= 50 ? "error" : Number(level) >= 40 ? "warn" : "info";
    const fields = Object.entries(rest).map(
      ([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`,
    );
    return `${name}: ${msg} ${fields.join(" ")}`.trim();
  } catch {
    return line.trim();
  }
}
