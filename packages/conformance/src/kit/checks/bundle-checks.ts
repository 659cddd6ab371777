import type { FamilyName } from "@flow/sdk/internal";
import { type CheckResult, fail, pass, skip } from "../check-result";
import type { ConformContext } from "../conform-context";
import { CONTRACT_REGISTRY } from "../contract-descriptors";
import { contractLabel, kitContract } from "../family-clients";
import type { KitEventBatch } from "../stream-messages";
import type { StreamRecorder } from "../stream-recorder";
import { batchWrite, openWrite } from "./consumer-checks";
import { ingestBundleCheck } from "./ingest-bundle-check";
import { batchRequest, openProcess } from "./processor-checks";
import { unclaimedFeatureResults } from "./unclaimed-feature";

// Bundles (family contracts v2.2): a service that says features.bundles reads a stream message
// whose oneof is `bundle` as the messages it carries, and bundles its own answers only on a stream
// whose start said accepts_bundles. The kit sends what Core would and reads each answer, bundled
// or not, as Core does.

const DATA_STREAM: Record<FamilyName, string> = { source: "Read", processor: "Process", consumer: "Write" };

/** Whether the family's contract at `major` has bundles: a `bundle` member in its data stream's request. */
export function contractHasBundles(family: FamilyName, major: number): boolean {
  const service = CONTRACT_REGISTRY.getService(kitContract(family, major).service);
  const request = service?.methods.find((method) => method.name === DATA_STREAM[family])?.input;
  return request?.fields.some((field) => field.name === "bundle") ?? false;
}

/**
 * Whether the bundle checks run at the context's major: undefined when they do, else the lines to
 * report instead: none at a major without bundles, one saying they do not apply to a service whose
 * Describe there does not say features.bundles.
 */
export function bundlesNotChecked(context: ConformContext): CheckResult[] | undefined {
  return unclaimedFeatureResults(context, {
    group: "bundles",
    field: "bundles",
    checks: "bundle checks",
    inContract: contractHasBundles(context.family, context.major),
    claimed: context.component.features?.bundles === true,
  });
}

/** An answer as the kit reads it: a bundle's messages one by one, each with whether it came in one. */
interface ReadAnswer {
  sequence: bigint | undefined;
  bundled: boolean;
}

interface Oneof {
  response?: { $case: string; value: unknown } | undefined;
}

/** The answers a stream got, bundles unrolled, in order; `sequenceOf` reads a plain answer's. */
function answersOf(
  recorder: StreamRecorder<unknown>,
  sequenceOf: (answer: Oneof) => bigint | undefined,
): ReadAnswer[] {
  return (recorder.received as Oneof[]).flatMap((answer): ReadAnswer[] => {
    if (answer.response?.$case !== "bundle") return [{ sequence: sequenceOf(answer), bundled: false }];
    const { responses } = answer.response.value as { responses: Oneof[] };
    return responses.map((carried) => ({ sequence: sequenceOf(carried), bundled: true }));
  });
}

/** The data stream of a processor or consumer, opened with or without accepts_bundles. */
function receiver(context: ConformContext, acceptsBundles: boolean) {
  if (context.family === "processor") {
    return {
      recorder: openProcess(context, undefined, acceptsBundles) as StreamRecorder<unknown>,
      request: batchRequest as (sequence: bigint, batch: KitEventBatch) => unknown,
      sequenceOf: (answer: Oneof) =>
        answer.response?.$case === "batch"
          ? (answer.response.value as { inputSequence: bigint }).inputSequence
          : undefined,
    };
  }
  return {
    recorder: openWrite(context, acceptsBundles) as StreamRecorder<unknown>,
    request: batchWrite as (sequence: bigint, batch: KitEventBatch) => unknown,
    sequenceOf: (answer: Oneof) =>
      answer.response?.$case === "ack" ? (answer.response.value as { sequence: bigint }).sequence : undefined,
  };
}

/**
 * Sends three batches on a stream: in one bundle on a stream whose start accepts bundles (what
 * Core does with a service that says features.bundles), one message each, at once, on one whose
 * start does not (what Core does when bundles are off). Reads every answer until there are three,
 * the stream ends or the time is up.
 */
async function threeBatches(context: ConformContext, bundled: boolean, first: bigint) {
  const stream = receiver(context, bundled);
  const sequences = [first, first + 1n, first + 2n];
  const requests = sequences.map((sequence, index) =>
    stream.request(sequence, {
      events: context.events.sampleEvents(context.config.events, `conform-bundle-${first}-${index}`),
    }),
  );
  if (bundled) stream.recorder.call.write({ request: { $case: "bundle", value: { requests } } });
  else for (const request of requests) stream.recorder.call.write(request);
  const read = () => answersOf(stream.recorder, stream.sequenceOf);
  await stream.recorder.until(() => read().length >= sequences.length, context.timeoutMs);
  const answers = read();
  const ended = stream.recorder.ended;
  stream.recorder.call.end();
  return { sequences, answers, ended };
}

const seqText = (sequences: readonly (bigint | undefined)[]) => sequences.map(String).join(", ");

/**
 * The bundle checks of a processor or consumer that says features.bundles: `bundles.read` (three
 * batches in one bundle are each answered once, in order) and `bundles.unasked` (three batches on
 * a stream whose start did not accept bundles are answered one message each), and `bundles.ingest`
 * (ingest-bundle-check.ts). A source's bundles are not checked yet.
 */
export async function bundleChecks(context: ConformContext): Promise<CheckResult[]> {
  const label = contractLabel(context.family, context.major);
  if (context.family === "source")
    return [skip("bundles", `the kit does not check a source's bundles yet (${label})`)];
  const results: CheckResult[] = [];
  const accepted = await threeBatches(context, true, 501n);
  const got = accepted.answers.map((answer) => answer.sequence);
  results.push(
    seqText(got) === seqText(accepted.sequences)
      ? pass("bundles.read", `three batches sent in one bundle were answered once each, in order (${label})`)
      : fail(
          "bundles.read",
          `three batches sent in one bundle (${seqText(accepted.sequences)}) were answered with [${seqText(got)}]${accepted.ended && accepted.ended !== "ok" ? `; the stream ended: ${accepted.ended}` : ""}`,
          "read a message whose oneof is `bundle` as the messages it carries, in order, each answered as if it had come alone; or leave features.bundles out of Describe",
        ),
  );
  const unasked = await threeBatches(context, false, 601n);
  const unaskedGot = unasked.answers.map((answer) => answer.sequence);
  results.push(
    seqText(unaskedGot) !== seqText(unasked.sequences)
      ? fail(
          "bundles.unasked",
          `three batches (${seqText(unasked.sequences)}) on a stream without bundles were answered with [${seqText(unaskedGot)}] (${label})`,
          "answer every batch exactly once, in order, whether or not the stream accepts bundles",
        )
      : unasked.answers.some((answer) => answer.bundled)
        ? fail(
            "bundles.unasked",
            `answers came in a bundle on a stream whose start did not say accepts_bundles (${label})`,
            "bundle answers only after the stream's start message says accepts_bundles",
          )
        : pass("bundles.unasked", `no bundled answer on a stream whose start did not accept them (${label})`),
  );
  results.push(await ingestBundleCheck(context));
  return results;
}
