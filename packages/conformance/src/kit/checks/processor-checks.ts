import type { EventBatch } from "../../gen/event/v1/event";
import type {
  ProcessedBatch,
  ProcessRequest,
  ProcessResponse,
} from "../../gen/processor_service/v1/processor";
import { type CheckResult, fail, pass, skip } from "../check-result";
import { announcedMessageBytes, type ConformContext } from "../conform-context";
import { familyClient } from "../family-clients";
import { carriesUnknownField, encodedEvent, paddedEvents, sampleEvents } from "../sample-events";
import { StreamRecorder } from "../stream-recorder";
import { answerCountCheck } from "./answer-accounting";

const batchRequest = (sequence: bigint, batch: EventBatch): ProcessRequest => ({
  request: { $case: "batch", value: { sequence, batch } },
});

/** Opens a Process stream with the config of the conformance config. */
export function openProcess(context: ConformContext): StreamRecorder<ProcessResponse> {
  const client = familyClient("processor", context.instance.target);
  const recorder = new StreamRecorder<ProcessResponse>(client.process() as never);
  recorder.call.on("close", () => client.close());
  recorder.call.write({
    request: {
      $case: "start",
      value: { configJson: JSON.stringify(context.config.config), stageId: "conform" },
    },
  } satisfies ProcessRequest);
  return recorder;
}

export function processedBatches(recorder: StreamRecorder<ProcessResponse>): ProcessedBatch[] {
  return recorder.received.flatMap((response) =>
    response.response?.$case === "batch" ? [response.response.value] : [],
  );
}

/**
 * The data plane of a processor: every batch answered exactly once with its own sequence (an
 * empty one too), events passed on intact (unknown fields too), dead letters for bad events
 * without failing the stream, and a batch as large as the announced limit accepted.
 */
export async function processorChecks(context: ConformContext): Promise<CheckResult[]> {
  const { config, timeoutMs } = context;
  const recorder = openProcess(context);
  const events = sampleEvents(config.events, "conform-a");
  // Sequences that do not start at 1, so a service that counts for itself is caught.
  const sent: bigint[] = [];
  const send = (sequence: bigint, batch: EventBatch): void => {
    sent.push(sequence);
    recorder.call.write(batchRequest(sequence, batch));
  };
  const answered = (sequence: bigint) => () =>
    processedBatches(recorder).some((b) => b.inputSequence === sequence);
  send(101n, { events });
  send(102n, { events: [] });
  send(103n, { events: sampleEvents(config.events, "conform-b") });
  await recorder.until(answered(103n), timeoutMs);

  const results: CheckResult[] = [];
  const first = processedBatches(recorder).find((batch) => batch.inputSequence === 101n);
  results.push(intactCheck(context, events, first));

  if (config.badEvents.length > 0) {
    const bad = sampleEvents(config.badEvents, "conform-bad");
    send(104n, { events: bad });
    send(105n, { events: sampleEvents(config.events, "conform-c") });
    await recorder.until(answered(105n), timeoutMs);
    const answer = processedBatches(recorder).find((batch) => batch.inputSequence === 104n);
    const lettered = new Set(answer?.deadLetters.map((letter) => letter.event?.id));
    const unexplained = answer?.deadLetters.filter((letter) => letter.reason.trim() === "") ?? [];
    results.push(
      !answer
        ? fail(
            "data.dead-letters",
            "the batch of bad events got no answer",
            "answer every batch, dead-lettering the events you cannot handle",
          )
        : answer.failure
          ? fail(
              "data.dead-letters",
              `bad events failed the whole batch (${answer.failure.reason}) instead of becoming dead letters`,
              "return each bad event as a DeadLetter with its reason; keep BatchFailure for failures of the whole batch",
            )
          : bad.some((event) => !lettered.has(event.id)) || unexplained.length > 0
            ? fail(
                "data.dead-letters",
                `expected ${bad.length} dead letter(s) with reasons, got ${answer.deadLetters.length}${unexplained.length > 0 ? ` (${unexplained.length} without a reason)` : ""}`,
                "return each event you cannot process as a DeadLetter {event, reason}",
              )
            : !answered(105n)()
              ? fail(
                  "data.dead-letters",
                  "the stream stopped answering after the bad events",
                  "a bad event must never break the stream",
                )
              : pass(
                  "data.dead-letters",
                  `${bad.length} bad event(s) came back as dead letters with reasons; the stream goes on`,
                ),
    );
  } else {
    results.push(skip("data.dead-letters", `no "badEvents" in ${config.origin}`));
  }

  const limit = announcedMessageBytes(context.component);
  const template = events[0];
  if (template) {
    const big = paddedEvents(template, limit - 4096, "conform-big");
    send(106n, { events: big });
    await recorder.until(answered(106n), Math.max(timeoutMs, 30_000));
    results.push(
      answered(106n)()
        ? pass(
            "data.message-limit",
            `a ${limit - 4096}-byte batch (the announced limit is ${limit}) is accepted and answered`,
          )
        : fail(
            "data.message-limit",
            `a batch of about ${limit - 4096} bytes, within the announced max_message_bytes ${limit}, got no answer (${recorder.ended ?? "no answer"})`,
            "announce in Limits.max_message_bytes exactly the receive limit your gRPC server enforces",
          ),
    );
  }
  await recorder.finish(timeoutMs);
  results.unshift(
    answerCountCheck(
      sent,
      processedBatches(recorder).map((batch) => batch.inputSequence),
      "answer every ProcessRequest batch once, with ProcessedBatch.input_sequence = its sequence (also when every event is filtered out)",
    ),
  );
  return results;
}

function intactCheck(
  context: ConformContext,
  events: ReturnType<typeof sampleEvents>,
  answer: ProcessedBatch | undefined,
): CheckResult {
  if (!answer) return fail("data.intact", "the first batch got no answer", "answer every batch");
  const out = answer.batch?.events ?? [];
  const byId = new Map(events.map((event) => [event.id, event]));
  const kept = out.filter((event) => byId.has(event.id));
  if (context.config.passThrough) {
    const changed = events.filter((event) => {
      const match = out.find((candidate) => candidate.id === event.id);
      return !match || !encodedEvent(match).equals(encodedEvent(event));
    });
    return changed.length === 0
      ? pass("data.intact", `${events.length} event(s) passed on byte for byte, an unknown field included`)
      : fail(
          "data.intact",
          `${changed.length} of ${events.length} event(s) did not come out byte for byte as they went in${changed.some((event) => out.find((c) => c.id === event.id) && !carriesUnknownField(out.find((c) => c.id === event.id) as never)) ? " (an unknown field was dropped)" : ""}`,
          'pass events on unchanged, keeping fields your generated code does not know (protobuf keeps them unless told not to); a transform sets "passThrough": false in the conformance config',
        );
  }
  if (kept.length === 0)
    return skip("data.intact", "the processor transforms every event (passThrough false) and keeps no id");
  const dropped = kept.filter((event) => !carriesUnknownField(event));
  return dropped.length === 0
    ? pass("data.intact", `${kept.length} transformed event(s) kept the field the contract does not know`)
    : fail(
        "data.intact",
        `${dropped.length} event(s) lost a field the contract does not know`,
        "modify the decoded event instead of building a new one, so unknown fields survive",
      );
}
