import { randomUUID } from "node:crypto";
import { AckStatus } from "../../gen/consumer_service/v1/consumer";
import type { PeerRef } from "../../gen/peer/v1/peer";
import { type CheckResult, fail, pass, skip } from "../check-result";
import type { ConformContext } from "../conform-context";
import type { KitEvent } from "../event-majors";
import { type IngestOutcome, pushToIngest } from "../ingest-push";
import { refText } from "../kit-peer";
import type { BatchAck, ByRefRequest, KitEventBatch, ProcessedBatch } from "../stream-messages";
import type { StreamRecorder } from "../stream-recorder";
import { acks, batchWrite, openWrite } from "./consumer-checks";
import { batchRequest, firstDifferences, openProcess, processedBatches } from "./processor-checks";

/** The Process or Write stream of a receiver check, and how its answers are read. */
export interface ReceiverStream<Answer> {
  recorder: StreamRecorder<unknown>;
  sendBatch(sequence: bigint, batch: KitEventBatch): void;
  answerTo(sequence: bigint): Answer | undefined;
  answers(): number;
}

/** A receiver stream on `recorder`: how a batch is sent on it, its answers, and the sequence each answers. */
function receiverStream<Response, Answer>(
  recorder: StreamRecorder<Response>,
  request: (sequence: bigint, batch: KitEventBatch) => unknown,
  answersOf: (recorder: StreamRecorder<Response>) => Answer[],
  sequenceOf: (answer: Answer) => bigint,
): ReceiverStream<Answer> {
  return {
    recorder: recorder as StreamRecorder<unknown>,
    sendBatch: (sequence, batch) => recorder.call.write(request(sequence, batch)),
    answerTo: (sequence) => answersOf(recorder).find((answer) => sequenceOf(answer) === sequence),
    answers: () => answersOf(recorder).length,
  };
}

export const processStream = (context: ConformContext): ReceiverStream<ProcessedBatch> =>
  receiverStream(openProcess(context), batchRequest, processedBatches, (answer) => answer.inputSequence);

export const writeStream = (context: ConformContext): ReceiverStream<BatchAck> =>
  receiverStream(openWrite(context), batchWrite, acks, (ack) => ack.sequence);

export const byRef = (sequence: bigint, ref: PeerRef): ByRefRequest => ({
  request: { $case: "batch", value: { sequence, ref } },
});

/** A reference on a stream id of the kit's own, unique to this run. */
export const freshStream = (): string => `conform-${randomUUID()}`;

/** What the receiver scenario saw: the answer to each way of sending the same batch. */
interface RefScenario<Answer> {
  pushes: IngestOutcome[];
  /** The events in `batch` (sequence 301). */
  inBatch?: Answer;
  /** By ref, its bytes pushed (and the Ingest call ended) before the ref was sent (302). */
  bytesFirst?: Answer;
  /** By ref, sent before its Ingest call even started (303). */
  refFirst?: Answer;
  /** By ref into an Ingest stream that ended without that handle (304). */
  missing?: Answer;
  missingRef: PeerRef;
  /** What the stream's end said, had it ended by then, for messages. */
  ended?: string;
}

/**
 * The receiver half of the direct data path on one stream: a batch in `batch`, the same kind of
 * batch named by ref with its bytes pushed first and with the ref first, and a ref whose Ingest
 * stream ended without it. `events(label)` gives each sending its events.
 */
async function refScenario<Answer>(
  context: ConformContext,
  stream: ReceiverStream<Answer>,
  events: (label: string) => KitEvent[],
): Promise<RefScenario<Answer>> {
  const { timeoutMs } = context;
  const first: PeerRef = { stream: freshStream(), handle: 1n };
  const later: PeerRef = { stream: freshStream(), handle: 1n };
  const missingRef: PeerRef = { stream: first.stream, handle: 2n };
  stream.sendBatch(301n, { events: events("in-batch") });
  const pushes = [
    await pushToIngest(context, [{ ref: first, batch: { events: events("bytes-first") } }], timeoutMs),
  ];
  if ("error" in (pushes[0] as IngestOutcome)) return { pushes, missingRef };
  await stream.recorder.write(byRef(302n, first));
  await stream.recorder.write(byRef(303n, later));
  pushes.push(
    await pushToIngest(context, [{ ref: later, batch: { events: events("ref-first") } }], timeoutMs),
  );
  await stream.recorder.write(byRef(304n, missingRef));
  await stream.recorder.until(
    () => [301n, 302n, 303n, 304n].every((sequence) => stream.answerTo(sequence)) || stream.answers() >= 4,
    timeoutMs,
  );
  return {
    pushes,
    inBatch: stream.answerTo(301n),
    bytesFirst: stream.answerTo(302n),
    refFirst: stream.answerTo(303n),
    missing: stream.answerTo(304n),
    missingRef,
    ended: stream.recorder.ended,
  };
}

const INGEST_FIX =
  "serve Ingest (the direct data path's rpc of your contract at v2) when Describe says features.direct_path, reading each IngestRequest and answering IngestResponse{batches: how many it carried} once the upstream ends the call; or say features.direct_path false";

function ingestCheck(context: ConformContext, pushes: IngestOutcome[]): CheckResult {
  for (const outcome of pushes) {
    if ("error" in outcome)
      return fail(
        "direct.ingest",
        `Describe at ${context.family}_service v${context.major} says features.direct_path, but an Ingest call of 1 batch failed: ${outcome.error}`,
        INGEST_FIX,
      );
    if (outcome.batches !== 1n)
      return fail(
        "direct.ingest",
        `an Ingest call of 1 batch was answered IngestResponse.batches ${outcome.batches}`,
        INGEST_FIX,
      );
  }
  return pass(
    "direct.ingest",
    `Ingest takes the batches pushed to it (${pushes.length} calls, each answered batches 1)`,
  );
}

const endedText = (scenario: { ended?: string }): string =>
  scenario.ended === undefined ? "" : ` (the stream ended: ${scenario.ended})`;

const REF_FIX =
  "read a batch whose `ref` is set from what Ingest took under that PeerRef, in whichever order the two arrive (wait for the bytes when the ref comes first, even for a stream whose Ingest call has not started), and handle it exactly as if its events had come in `batch`";

/** The ref'd answers against the answer to the same kind of batch in `batch`, as one check. */
function refCheck<Answer>(
  scenario: RefScenario<Answer>,
  differences: (inBatch: Answer, byRef: Answer) => string[],
): CheckResult {
  const { inBatch } = scenario;
  if (!inBatch)
    return fail(
      "direct.ref",
      `the batch sent in \`batch\` (301) got no answer with its sequence${endedText(scenario)}`,
      REF_FIX,
    );
  const found: string[] = [];
  for (const [order, sequence, answer] of [
    ["its bytes pushed first", 302n, scenario.bytesFirst],
    ["the ref sent first", 303n, scenario.refFirst],
  ] as const) {
    if (!answer)
      found.push(
        `the batch named by ref (${order}, ${sequence}) got no answer with its sequence${endedText(scenario)}`,
      );
    else {
      const differs = differences(inBatch, answer);
      if (differs.length > 0)
        found.push(
          `the batch named by ref (${order}, ${sequence}) was answered otherwise than in \`batch\` (301): ${firstDifferences(differs)}`,
        );
    }
  }
  return found.length === 0
    ? pass(
        "direct.ref",
        "a batch named by ref is answered as the same batch in `batch` is, bytes first or ref first",
      )
    : fail("direct.ref", found.join("; "), REF_FIX);
}

function refMissingCheck<Answer extends { refMissing?: boolean }>(
  scenario: RefScenario<Answer>,
  otherwise: (answer: Answer) => string | undefined,
  fix: string,
): CheckResult {
  const ref = refText(scenario.missingRef);
  const answer = scenario.missing;
  if (!answer)
    return fail(
      "direct.ref-missing",
      `a ref (${ref}) into an Ingest stream that had ended without it got no answer with its sequence${endedText(scenario)}`,
      fix,
    );
  const wrong = answer.refMissing ? otherwise(answer) : "without ref_missing";
  return wrong === undefined
    ? pass("direct.ref-missing", `a ref into an Ingest stream that ended without it is answered ref_missing`)
    : fail(
        "direct.ref-missing",
        `a ref (${ref}) into an Ingest stream that had ended without it was answered ${wrong}`,
        fix,
      );
}

/** What differs between two processor answers to the same events, for messages. */
function answerDifferences(
  context: ConformContext,
  inBatch: ProcessedBatch,
  byRef: ProcessedBatch,
): string[] {
  if (byRef.refMissing) return ["it was answered ref_missing, though its batch had been pushed to Ingest"];
  const major = context.events;
  const found: string[] = [];
  if (byRef.outputRef) found.push("it was answered with an output_ref, though ProcessStart named no peers");
  if ((inBatch.failure?.reason ?? "") !== (byRef.failure?.reason ?? ""))
    found.push(`failure "${byRef.failure?.reason ?? ""}", in \`batch\` "${inBatch.failure?.reason ?? ""}"`);
  const sent = inBatch.batch?.events ?? [];
  const got = byRef.batch?.events ?? [];
  if (sent.length !== got.length)
    found.push(`${got.length} event(s) out, ${sent.length} for the batch in \`batch\``);
  else
    sent.forEach((event, index) => {
      const other = got[index] as KitEvent;
      if (!major.canonical(other).equals(major.canonical(event)))
        found.push(`event ${event.id}: ${major.differences(event, other).join(", ")}`);
    });
  const letters = (answer: ProcessedBatch) =>
    answer.deadLetters.map(
      (letter) => `${letter.event ? major.canonical(letter.event).toString("hex") : ""} ${letter.reason}`,
    );
  if (letters(inBatch).join("\n") !== letters(byRef).join("\n"))
    found.push(
      `${byRef.deadLetters.length} dead letter(s), in \`batch\` ${inBatch.deadLetters.length} (or their events or reasons differ)`,
    );
  return found;
}

async function processorReceiverChecks(context: ConformContext): Promise<CheckResult[]> {
  const stream = processStream(context);
  // The very same events each time: a ref'd batch must be processed as those bytes in `batch` are.
  const events = context.events.sampleEvents(context.config.events, "conform-direct");
  const scenario = await refScenario(context, stream, () => events);
  await stream.recorder.finish(context.timeoutMs);
  const ingest = ingestCheck(context, scenario.pushes);
  if (ingest.status === "fail") return [ingest];
  return [
    ingest,
    refCheck(scenario, (inBatch, ref) => answerDifferences(context, inBatch, ref)),
    refMissingCheck(
      scenario,
      (answer) =>
        (answer.batch?.events.length ?? 0) > 0 || answer.failure
          ? `ref_missing, but with ${answer.failure ? "a failure" : "events"} as well`
          : undefined,
      "answer an InputBatch whose ref names a batch its Ingest stream ended without with ProcessedBatch{input_sequence, ref_missing: true}: Core reads it again from its source",
    ),
  ];
}

const statusName = (ack: BatchAck): string =>
  `${AckStatus[ack.status]}${ack.reason ? ` (${ack.reason})` : ""}`;

async function consumerReceiverChecks(context: ConformContext): Promise<CheckResult[]> {
  const { config, events: major, timeoutMs } = context;
  const stream = writeStream(context);
  // Events of their own each time: a consumer's system may refuse an id written before.
  const run = `conform-${process.pid}-${Date.now()}-direct`;
  const scenario = await refScenario(context, stream, (label) =>
    major.sampleEvents(config.events, `${run}-${label}`),
  );
  const results = [ingestCheck(context, scenario.pushes)];
  if (results[0]?.status === "fail") {
    await stream.recorder.finish(timeoutMs);
    return results;
  }
  results.push(
    refCheck(scenario, (inBatch, byRef) => {
      if (byRef.refMissing)
        return ["it was answered ref_missing, though its batch had been pushed to Ingest"];
      if (byRef.status !== inBatch.status)
        return [`${statusName(byRef)}, in \`batch\` ${statusName(inBatch)}`];
      if (byRef.status === AckStatus.ACK_STATUS_WRITTEN && (byRef.returned?.events.length ?? 0) > 0)
        return ["WRITTEN, and yet its events were returned"];
      return [];
    }),
    refMissingCheck(
      scenario,
      (ack) => (ack.status === AckStatus.ACK_STATUS_WRITTEN ? "ref_missing, but WRITTEN" : undefined),
      "answer a WriteBatch whose ref names a batch its Ingest stream ended without with BatchAck{sequence, status: RETRYABLE_FAILURE, reason, ref_missing: true}: Core reads it again from its source",
    ),
  );
  results.push(await returnedCheck(context, stream));
  await stream.recorder.finish(timeoutMs);
  return results;
}

/**
 * A consumer's bad events, named by ref: refused as the same events in `batch` are, with the
 * events returned (BatchAck.returned), so Core can dead-letter them without bytes it never had.
 */
async function returnedCheck(
  context: ConformContext,
  stream: ReceiverStream<BatchAck>,
): Promise<CheckResult> {
  const { config, events: major, timeoutMs } = context;
  if (config.badEvents.length === 0) return skip("direct.returned", `no "badEvents" in ${config.origin}`);
  const bad = major.sampleEvents(config.badEvents, `conform-${process.pid}-${Date.now()}-direct-bad`);
  const ref: PeerRef = { stream: freshStream(), handle: 1n };
  const pushed = await pushToIngest(context, [{ ref, batch: { events: bad } }], timeoutMs);
  if ("error" in pushed)
    return fail("direct.returned", `pushing the bad events to Ingest failed: ${pushed.error}`, INGEST_FIX);
  await stream.recorder.write(byRef(305n, ref));
  await stream.recorder.until(() => stream.answerTo(305n) !== undefined || stream.answers() >= 5, timeoutMs);
  const ack = stream.answerTo(305n);
  const fix =
    "answer a batch named by ref that you do not write with its events in BatchAck.returned (as they came), so Core can retry or dead-letter them";
  if (!ack)
    return fail(
      "direct.returned",
      `the bad events named by ref (${refText(ref)}) got no ack with its sequence`,
      fix,
    );
  if (ack.status === AckStatus.ACK_STATUS_WRITTEN)
    return fail(
      "direct.returned",
      "the bad events named by ref were answered WRITTEN",
      "refuse them as you do in `batch`",
    );
  const returned = ack.returned?.events ?? [];
  const same =
    returned.length === bad.length &&
    bad.every((event, index) => major.canonical(returned[index] as KitEvent).equals(major.canonical(event)));
  return same
    ? pass(
        "direct.returned",
        `bad events named by ref: ${statusName(ack)}, their ${bad.length} event(s) returned as they came`,
      )
    : fail(
        "direct.returned",
        `bad events named by ref were answered ${statusName(ack)} with ${returned.length} of their ${bad.length} event(s) returned${returned.length === bad.length ? ", changed" : ""}`,
        fix,
      );
}

/**
 * The receiver half of the direct data path (a processor or consumer whose Describe says
 * features.direct_path): Ingest is served; a batch named by ref is handled as the same batch in
 * `batch`, its bytes pushed first or its ref sent first; a ref its Ingest stream ended without is
 * answered ref_missing; (a consumer) a batch named by ref that is not written comes back returned.
 */
export function directReceiverChecks(context: ConformContext): Promise<CheckResult[]> {
  return context.family === "processor" ? processorReceiverChecks(context) : consumerReceiverChecks(context);
}
