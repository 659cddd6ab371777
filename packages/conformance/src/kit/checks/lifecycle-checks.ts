import { type CheckResult, fail, pass } from "../check-result";
import type { ConformContext } from "../conform-context";
import type { Scenario } from "../scenario";
import type { ServiceProcess } from "../service-process";
import { keyPatternFor, SourceReader } from "../source-reader";
import type { KitEventBatch } from "../stream-messages";
import { acks, batchWrite, openWrite } from "./consumer-checks";
import { batchRequest, openProcess, processedBatches } from "./processor-checks";
import { startFeed } from "./source-checks";

/** How long a service may take to stop once told: Core's grace before SIGKILL is of this order. */
export const STOP_GRACE_MS = 10_000;

/** Closing stdin (Core's lifeline: Core is gone, however it died) stops the service. */
export async function stdinCheck(process: ServiceProcess): Promise<CheckResult> {
  process.closeStdin();
  if (await process.exitsWithin(STOP_GRACE_MS))
    return pass("lifecycle.stdin", "closing stdin stops the service");
  await process.kill();
  return fail(
    "lifecycle.stdin",
    `still running ${STOP_GRACE_MS} ms after its stdin closed (it would outlive a Core that crashed)`,
    "when FLOW_SPAWNED=1, read stdin and stop (as on SIGTERM) when it reaches end of file",
  );
}

/**
 * SIGTERM while work is in flight: the service answers what it holds, then exits by itself
 * (not killed by the signal, which would drop what it holds).
 */
export async function sigtermCheck(context: ConformContext, scenario: Scenario): Promise<CheckResult> {
  const child = context.instance.process as ServiceProcess;
  const { timeoutMs } = context;
  let unanswered = (): string | undefined => undefined;
  let closeCleanly: () => boolean = () => false;
  if (context.family === "source") {
    const reader = new SourceReader(context, keyPatternFor(scenario.placeholders.RUN), {
      initialCredits: 1,
      maxBatchSize: 1,
      maxBatchBytes: 0,
    });
    const feed = startFeed(scenario);
    await reader.untilBatches(1, Math.max(timeoutMs, 30_000));
    child.signal("SIGTERM");
    await reader.recorder.until(() => reader.recorder.ended !== undefined, STOP_GRACE_MS);
    await feed?.stop();
    closeCleanly = () => reader.recorder.ended !== undefined;
  } else {
    const recorder = context.family === "processor" ? openProcess(context) : openWrite(context);
    const batch: KitEventBatch = {
      events: context.events.sampleEvents(context.config.events, `conform-term-${Date.now()}`),
    };
    const request = context.family === "processor" ? batchRequest(301n, batch) : batchWrite(301n, batch);
    const answered = (): boolean =>
      context.family === "processor"
        ? processedBatches(recorder as never).some((b) => b.inputSequence === 301n)
        : acks(recorder as never).some((ack) => ack.sequence === 301n);
    await recorder.write(request);
    child.signal("SIGTERM");
    await recorder.until(() => answered() || recorder.ended !== undefined, STOP_GRACE_MS);
    unanswered = () =>
      !answered() && recorder.ended === "ok" ? "it closed the stream without answering batch 301" : undefined;
    closeCleanly = () => true;
    if (recorder.ended === undefined) recorder.call.cancel();
  }
  const exited = await child.exitsWithin(STOP_GRACE_MS);
  if (!exited) {
    await child.kill();
    return fail(
      "lifecycle.sigterm",
      `still running ${STOP_GRACE_MS} ms after SIGTERM: it ignores SIGTERM (Core then SIGKILLs it, losing what it holds)`,
      "on SIGTERM: stop taking work, answer what you hold, close the server, exit 0",
    );
  }
  const exit = await child.exited;
  if (exit.signal === "SIGTERM")
    return fail(
      "lifecycle.sigterm",
      `killed by SIGTERM itself: no handler, so nothing it held was answered${child.stderrTail.length > 0 ? `; last stderr line: ${child.stderrTail.at(-1)}` : ""}`,
      "handle SIGTERM: stop taking work, answer what you hold, then exit 0 (Python: signal.signal(SIGTERM, ...) and server.stop(grace))",
    );
  const dropped = unanswered();
  if (dropped || !closeCleanly())
    return fail(
      "lifecycle.sigterm",
      `exited on SIGTERM but ${dropped ?? "left its stream open"}`,
      "answer every batch you hold before exiting",
    );
  return pass(
    "lifecycle.sigterm",
    `answered what it held and exited (${exit.signal ?? `code ${exit.code}`}) after SIGTERM`,
  );
}
