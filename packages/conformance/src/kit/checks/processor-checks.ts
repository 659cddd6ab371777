import { type CheckResult, fail, pass, skip } from "../check-result";
import { announcedMessageBytes, type ConformContext } from "../conform-context";
import type { KitEvent } from "../event-majors";
import { familyClient } from "../family-clients";
import type {
  KitEventBatch,
  ProcessedBatch,
  ProcessRequest,
  ProcessResponse,
  StartPeers,
} from "../stream-messages";
import { StreamRecorder } from "../stream-recorder";
import { answerCountCheck } from "./answer-accounting";

export const batchRequest = (sequence: bigint, batch: KitEventBatch): ProcessRequest => ({
  request: { $case: "batch", value: { sequence, batch } },
});

/**
 * Opens a Process stream, at the context's major, with the config of the conformance config (and
 * the peers to push its outputs to, on the direct data path; `accepts_bundles` for the bundle
 * checks).
 */
export function openProcess(
  context: ConformContext,
  peers?: StartPeers["peers"],
  acceptsBundles = false,
): StreamRecorder<ProcessResponse> {
  const client = familyClient("processor", context.instance.target, context.major);
  const recorder = new StreamRecorder<ProcessResponse>(client.process() as never);
  recorder.call.on("close", () => client.close());
  recorder.call.write({
    request: {
      $case: "start",
      value: {
        configJson: JSON.stringify(context.config.config),
        stageId: "conform",
        ...(peers ? { peers } : {}),
        ...(acceptsBundles ? { acceptsBundles } : {}),
      },
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
 * without failing the stream, every kind of data the major carries handled, and a batch as
 * large as the announced limit accepted.
 */
export async function processorChecks(context: ConformContext): Promise<CheckResult[]> {
  const { config, timeoutMs, events: major } = context;
  const recorder = openProcess(context);
  const events = major.sampleEvents(config.events, "conform-a");
  // Sequences that do not start at 1, so a service that counts for itself is caught.
  const sent: bigint[] = [];
  const send = (sequence: bigint, batch: KitEventBatch): void => {
    sent.push(sequence);
    recorder.call.write(batchRequest(sequence, batch));
  };
  const answered = (sequence: bigint) => () =>
    processedBatches(recorder).some((b) => b.inputSequence === sequence);
  // Waits for the answer to `sequence`, or for as many answers as batches sent (a service that
  // answers with wrong sequences is not waited for until the time is up).
  const settled = (sequence: bigint) => () =>
    answered(sequence)() || processedBatches(recorder).length >= sent.length;
  const answerTo = (sequence: bigint) =>
    processedBatches(recorder).find((batch) => batch.inputSequence === sequence);
  send(101n, { events });
  send(102n, { events: [] });
  send(103n, { events: major.sampleEvents(config.events, "conform-b") });
  await recorder.until(settled(103n), timeoutMs);

  const results: CheckResult[] = [];
  results.push(intactCheck(context, events, answerTo(101n)));

  if (config.badEvents.length > 0) {
    const bad = major.sampleEvents(config.badEvents, "conform-bad");
    send(104n, { events: bad });
    send(105n, { events: major.sampleEvents(config.events, "conform-c") });
    await recorder.until(settled(105n), timeoutMs);
    const answer = answerTo(104n);
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

  const template = config.events[0];
  const kinds = template ? major.dataKindEvents(template, "conform-kind") : [];
  if (kinds.length > 0) {
    send(106n, { events: kinds.map(({ event }) => event) });
    await recorder.until(settled(106n), timeoutMs);
    results.push(dataKindsCheck(context, kinds, answerTo(106n)));
  }

  const limit = announcedMessageBytes(context.component);
  if (events[0]) {
    send(107n, { events: major.padded(events[0], limit - 4096, "conform-big") });
    await recorder.until(settled(107n), Math.max(timeoutMs, 30_000));
    results.push(
      answered(107n)()
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

/** The first few differences, for a message. */
export function firstDifferences(found: string[]): string {
  return found.length > 4 ? `${found.slice(0, 4).join("; ")}; ... (${found.length})` : found.join("; ");
}

function intactCheck(
  context: ConformContext,
  events: KitEvent[],
  answer: ProcessedBatch | undefined,
): CheckResult {
  if (!answer) return fail("data.intact", "the first batch got no answer", "answer every batch");
  const major = context.events;
  const out = answer.batch?.events ?? [];
  const byId = new Map(events.map((event) => [event.id, event]));
  const kept = out.filter((event) => byId.has(event.id));
  if (context.config.passThrough) {
    const changed = events.flatMap((event) => {
      const match = out.find((candidate) => candidate.id === event.id);
      if (!match) return [{ event, differences: ["it did not come out"] }];
      return major.canonical(match).equals(major.canonical(event))
        ? []
        : [{ event, differences: major.differences(event, match) }];
    });
    return changed.length === 0
      ? pass("data.intact", `${events.length} event(s) passed on byte for byte, an unknown field included`)
      : fail(
          "data.intact",
          `${changed.length} of ${events.length} event(s) did not come out as they went in (${changed[0]?.event.id}: ${firstDifferences(changed[0]?.differences ?? [])})`,
          'pass events on unchanged: every attribute with its type, the data in its kind, and fields your generated code does not know (protobuf keeps them unless told not to); a transform sets "passThrough": false in the conformance config',
        );
  }
  if (kept.length === 0)
    return skip("data.intact", "the processor transforms every event (passThrough false) and keeps no id");
  const dropped = kept.filter((event) => !major.carriesUnknownField(event));
  return dropped.length === 0
    ? pass("data.intact", `${kept.length} transformed event(s) kept the field the contract does not know`)
    : fail(
        "data.intact",
        `${dropped.length} event(s) lost a field the contract does not know`,
        "modify the decoded event instead of building a new one, so unknown fields survive",
      );
}

/**
 * One event of each data kind (text_data, binary_data, proto_data): the batch answered without a
 * failure; each event passed on (unchanged, for a pass-through processor), dead-lettered as it
 * came with a reason, or filtered out, but never mangled.
 */
function dataKindsCheck(
  context: ConformContext,
  kinds: { kind: string; event: KitEvent }[],
  answer: ProcessedBatch | undefined,
): CheckResult {
  const fix =
    "read every kind of data the contract carries (text_data, binary_data, proto_data) and pass each on in the kind it came in; dead-letter one you cannot handle, as it came, with its reason";
  if (!answer) return fail("data.kinds", "the batch of one event per data kind got no answer", fix);
  if (answer.failure)
    return fail(
      "data.kinds",
      `the batch of one event per data kind failed whole: ${answer.failure.reason}`,
      fix,
    );
  const major = context.events;
  const outcomes: string[] = [];
  for (const { kind, event } of kinds) {
    const out = answer.batch?.events.find((candidate) => candidate.id === event.id);
    const letter = answer.deadLetters.find((candidate) => candidate.event?.id === event.id);
    if (out) {
      if (context.config.passThrough && !major.canonical(out).equals(major.canonical(event)))
        return fail(
          "data.kinds",
          `the ${kind} event came out changed: ${firstDifferences(major.differences(event, out))}`,
          fix,
        );
      outcomes.push(`${kind} passed on${context.config.passThrough ? " intact" : ""}`);
    } else if (letter?.event) {
      if (letter.reason.trim() === "")
        return fail("data.kinds", `the ${kind} event became a dead letter without a reason`, fix);
      if (!major.canonical(letter.event).equals(major.canonical(event)))
        return fail(
          "data.kinds",
          `the ${kind} event became a dead letter changed: ${firstDifferences(major.differences(event, letter.event))}`,
          fix,
        );
      outcomes.push(`${kind} dead-lettered (${letter.reason})`);
    } else {
      outcomes.push(`${kind} filtered out`);
    }
  }
  return pass("data.kinds", outcomes.join("; "));
}
