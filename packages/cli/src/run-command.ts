import { relative, resolve } from "node:path";
import {
  BatchTracing,
  describeDeadLetterAllowance,
  FLOW_CLI,
  loadPipeline,
  openStateStore,
  type Pipeline,
  PipelineMetrics,
  PipelineRunner,
  type RunResult,
  type StageCounters,
  stageConfigError,
} from "@flow/core";
import { formatUserError, isUserError, UserError } from "@flow/errors";
import { type Command, InvalidArgumentError, Option } from "commander";
import pino, { type Logger } from "pino";
import { logLevelOption } from "./log-level-option";
import { checkDeadLetterPath } from "./pipeline-environment-checks";
import { listenForReload } from "./pipeline-reloader";
import { parsePortArgument } from "./port-argument";
import { type ProblemJson, problemsOf } from "./problem-json";
import { ProgressDisplay } from "./progress-display";
import { judgeRun, type RunOutcome } from "./run-outcome";
import { SAME_STOP_WITHIN_MS, stopSignals } from "./stop-signals";
import { systemReason } from "./writable-path";

interface RunOptions {
  json?: boolean;
  progress?: boolean;
  httpPort?: number;
  /** The former name of --http-port, still accepted. */
  metricsPort?: number;
  httpHost: string;
  otlpEndpoint?: string;
  logLevel: string;
  watch?: boolean;
}

/** `flow run <pipeline.yaml>`: the main job. */
export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("Run a pipeline: start or find its services, negotiate, move every event, keep checkpoints")
    .argument("<pipeline>", "the pipeline file (YAML, apiVersion flow/v1)")
    .option("--json", "print the result as JSON on stdout (logs stay on stderr)")
    .option("--no-progress", "no live display, plain structured logs even on a terminal")
    .option(
      "--watch",
      "reload the pipeline when its file changes (SIGHUP reloads too): unchanged stages keep running, changed ones are drained and replaced",
    )
    .addOption(
      new Option(
        "--http-port <port>",
        "serve /metrics (Prometheus), /healthz and /readyz on this port (0: any free port)",
      ).argParser(parsePortArgument),
    )
    .addOption(
      new Option("--metrics-port <port>", "the former name of --http-port").argParser(parsePortArgument),
    )
    .option(
      "--http-host <host>",
      "the address --http-port listens on (0.0.0.0: every interface)",
      "127.0.0.1",
    )
    .addOption(
      new Option(
        "--otlp-endpoint <url>",
        "export a span per batch per stage over OTLP/HTTP to this base URL (default: $OTEL_EXPORTER_OTLP_ENDPOINT)",
      ).argParser(parseEndpoint),
    )
    .addOption(logLevelOption())
    .action(async (file: string, options: RunOptions, command: Command) => {
      const levelGiven = command.getOptionValueSource("logLevel") !== "default";
      process.exitCode = await runPipeline(file, options, levelGiven);
    });
}

async function runPipeline(file: string, options: RunOptions, levelGiven: boolean): Promise<number> {
  const pipeline = loadPipeline(resolve(file));
  // Refused before the run is recorded: found at the first dead letter, it would end the run half-way.
  const unwritable = checkDeadLetterPath(pipeline);
  if (unwritable) throw unwritable;
  const live = options.progress !== false && !options.json && ProgressDisplay.supported(process.stderr);
  const display = live ? new ProgressDisplay() : undefined;
  // Every line of the run carries its id from the moment the run is claimed (the store hands it out).
  let runner: PipelineRunner | undefined;
  const mixin = () => (runner?.id ? { runId: runner.id } : {});
  // Over the live view only warnings, unless a level was asked for.
  const logger = display
    ? pino(
        { level: levelGiven ? options.logLevel : "warn", mixin },
        { write: (line: string) => display.log(describeLogLine(line)) },
      )
    : pino({ level: options.logLevel, mixin }, pino.destination(2));

  const store = await openStateStore(pipeline.state.url, { baseDir: pipeline.baseDir });
  const metrics = new PipelineMetrics(pipeline.name, {
    stages: pipeline.stages,
    tracing: BatchTracing.configured(options.otlpEndpoint),
  });
  const httpPort = options.httpPort ?? options.metricsPort;
  let metricsServer: Awaited<ReturnType<PipelineMetrics["serve"]>> | undefined;
  let result: RunResult;
  try {
    if (httpPort !== undefined) {
      const flag = options.httpPort !== undefined ? "--http-port" : "--metrics-port";
      metricsServer = await serveMetrics(metrics, httpPort, options.httpHost, flag);
      const base = `http://${options.httpHost.includes(":") ? `[${options.httpHost}]` : options.httpHost}:${metricsServer.port}`;
      logger.info(
        { url: `${base}/metrics`, healthz: `${base}/healthz`, readyz: `${base}/readyz` },
        "metrics",
      );
    }
    runner = new PipelineRunner({
      plan: pipeline,
      store,
      logger,
      metrics,
      describeProblem: (problem) =>
        stageConfigError(pipeline, problem.stageId, problem.pointer ?? "", problem.message),
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
    const release = listenForStop(runner, logger);
    const stopReloading = listenForReload({
      file: pipeline.file,
      runner,
      logger,
      watchFile: options.watch === true,
    });
    try {
      result = await runner.run();
    } finally {
      stopReloading();
      release();
    }
  } finally {
    display?.stop();
    metricsServer?.server.close();
    await metrics.shutdown();
    await store.close();
  }

  const outcome = judgeRun(result, pipeline);
  if (options.json) {
    const problems = result.error ? problemsOf(result.error) : undefined;
    process.stdout.write(
      `${JSON.stringify(
        {
          ...result,
          // The cause itself, not only "2 services could not start": every problem, one per line.
          error: result.error ? failureText(result.error, problems ?? []) : undefined,
          ...(problems ? { problems } : {}),
          eventsRead: outcome.eventsRead,
          deadLetterFile: pipeline.deadLetters.path,
          deadLettersAllowed: outcome.deadLettersAllowed,
          exitCode: outcome.exitCode,
        },
        (_key, value) => (typeof value === "bigint" ? String(value) : value),
      )}\n`,
    );
  } else {
    printSummary(result, outcome, pipeline, file);
  }
  if (result.status === "failed" && result.error && !options.json) {
    console.error(
      isUserError(result.error) ? formatUserError(result.error) : `error: ${result.error.message}`,
    );
  }
  return outcome.exitCode;
}

/** A failure as one text: its summary, then each problem it holds. */
function failureText(error: Error, problems: readonly ProblemJson[]): string {
  const lines = problems.map((problem) => problem.message).filter((message) => message !== error.message);
  return [error.message, ...lines].join("\n");
}

/**
 * The first SIGINT/SIGTERM drains the run. `timeout` and a terminal deliver one signal to the
 * process and one to its group, so signals within SAME_STOP_WITHIN_MS are that same stop; one
 * that comes later exits at once (stop-signals.ts does the exit).
 */
function listenForStop(runner: PipelineRunner, logger: Logger): () => void {
  return stopSignals.listen((notice) => {
    if (notice.kind === "stop") {
      logger.warn(
        { signal: notice.signal },
        `stop requested: draining, then committing checkpoints (another signal, ${SAME_STOP_WITHIN_MS / 1000} s or more from now, exits at once)`,
      );
      runner.stop();
    } else if (notice.kind === "repeated") {
      logger.warn(
        { signal: notice.signal, afterMs: notice.afterMs },
        `signal ignored: it came within ${SAME_STOP_WITHIN_MS / 1000} s of the first, so it is the same stop; still draining`,
      );
    } else {
      logger.warn(
        { signal: notice.signal, afterMs: notice.afterMs },
        "second signal: exiting at once without draining; what was not committed is read again by the next run",
      );
    }
  });
}

async function serveMetrics(
  metrics: PipelineMetrics,
  port: number,
  host: string,
  flag: string,
): Promise<Awaited<ReturnType<PipelineMetrics["serve"]>>> {
  try {
    return await metrics.serve(port, host);
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
    throw new UserError(
      `${flag} ${port}: ${inUse ? "the port is already in use" : `cannot listen on ${host}: ${systemReason(error)}`}`,
      {
        hint: inUse
          ? `choose another port, or ${flag} 0 for any free one`
          : "--http-host must be an address of this machine (127.0.0.1, 0.0.0.0 for every interface)",
      },
    );
  }
}

function printSummary(result: RunResult, outcome: RunOutcome, pipeline: Pipeline, file: string): void {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const out = process.stderr;
  if (outcome.overAllowance) {
    out.write(
      `\nrun ${result.runId} went to its end in ${seconds}s but dead-lettered ${result.deadLetters} of the ${outcome.eventsRead} events read (allowed: ${describeDeadLetterAllowance(pipeline.deadLetters.allow, outcome.eventsRead)}): exit ${outcome.exitCode}\n`,
    );
  } else {
    out.write(`\nrun ${result.runId} ${result.status} in ${seconds}s\n`);
  }
  for (const stage of result.stages) {
    out.write(
      `  ${stage.stageId.padEnd(16)} ${stage.family.padEnd(9)} in ${String(stage.eventsIn).padStart(9)}  out ${String(stage.eventsOut).padStart(9)}  dead ${stage.deadLetters}  restarts ${stage.restarts}\n`,
    );
  }
  if (result.dataPlaneRestarts > 0)
    out.write(
      `data plane restarted ${result.dataPlaneRestarts} time(s): a stage holding batches sent directly broke, and the sources read what was in flight again from their checkpoints (a sink may have got some events twice)\n`,
    );
  if (result.deadLetters > 0) {
    const where = relative(process.cwd(), pipeline.deadLetters.path) || pipeline.deadLetters.path;
    out.write(
      `dead letters: ${result.deadLetters} in ${where}; see them with: ${FLOW_CLI} dead-letters list ${file} --run ${result.runId}\n`,
    );
  }
  for (const stage of pipeline.stages) {
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

/** --otlp-endpoint: an http(s) URL, the base that "/v1/traces" is added to. */
function parseEndpoint(value: string): string {
  if (!/^https?:\/\//.test(value) || !URL.canParse(value))
    throw new InvalidArgumentError("expected an http:// or https:// URL, e.g. http://127.0.0.1:4318");
  return value;
}
