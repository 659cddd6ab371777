import { type CheckResult, fail, pass, skip } from "../check-result";
import type { ConformContext } from "../conform-context";
import { contractLabel, contractName } from "../family-clients";
import { pushToIngest } from "../ingest-push";
import { refText } from "../kit-peer";
import {
  byRef,
  freshStream,
  processStream,
  type ReceiverStream,
  writeStream,
} from "./direct-receiver-checks";

// Bundles on Ingest (family contracts v2.3): a processor or consumer that says features.bundles
// and features.direct_path, and reports its contract at 2.3 or later, reads an IngestRequest whose
// `bundle` carries several as the requests it carries. Core tells its upstreams so (Peer.bundles),
// and they push a turn's batches in one message.

/** The family minor (at v2) from which bundles reach Ingest too. */
const INGEST_BUNDLES_MINOR = 3;

/** Why the check does not apply to the service at the context's major, or undefined when it does. */
function notApplicable(context: ConformContext): string | undefined {
  const { component, family, major } = context;
  if (!component.features?.directPath) return "it does not say features.direct_path";
  const name = contractName(family);
  const contract = component.contracts.find((listed) => listed.name === name && listed.major === major);
  if (major !== 2 || (contract?.minor ?? 0) < INGEST_BUNDLES_MINOR)
    return `it reports ${name} ${contract ? `${contract.major}.${contract.minor}.${contract.patch}` : `v${major}`}, and bundles reach Ingest from 2.${INGEST_BUNDLES_MINOR}`;
  return undefined;
}

/** Whether an answer said ref_missing: all the check reads of it. */
interface RefAnswer {
  refMissing?: boolean;
}

const FIX =
  "read an IngestRequest whose `bundle` is set as the IngestRequests it carries, in order, each kept under its own ref, and answer IngestResponse.batches with how many batches the call carried; or report your contract below 2.3";

/**
 * `bundles.ingest`: two batches pushed in one IngestRequest bundle are taken as two (Ingest answers
 * batches 2), and each, named by its ref on the data stream, is answered as pushed (not
 * ref_missing).
 */
export async function ingestBundleCheck(context: ConformContext): Promise<CheckResult> {
  const label = contractLabel(context.family, context.major);
  const why = notApplicable(context);
  if (why) return skip("bundles.ingest", `not checked: ${why} (${label})`);
  const { config, events, timeoutMs } = context;
  const stream: ReceiverStream<RefAnswer> =
    context.family === "processor" ? processStream(context) : writeStream(context);
  const id = freshStream();
  const refs = [1n, 2n].map((handle) => ({ stream: id, handle }));
  const run = `conform-${process.pid}-${Date.now()}-ingest-bundle`;
  const pushed = await pushToIngest(
    context,
    [
      {
        bundle: {
          requests: refs.map((ref, index) => ({
            ref,
            batch: { events: events.sampleEvents(config.events, `${run}-${index}`) },
          })),
        },
      },
    ],
    timeoutMs,
  );
  if ("error" in pushed) {
    await stream.recorder.finish(timeoutMs);
    return fail("bundles.ingest", `an Ingest call of one bundle of 2 batches failed: ${pushed.error}`, FIX);
  }
  const sequences = [701n, 702n];
  for (const [index, ref] of refs.entries())
    await stream.recorder.write(byRef(sequences[index] as bigint, ref));
  await stream.recorder.until(() => sequences.every((sequence) => stream.answerTo(sequence)), timeoutMs);
  const answers = sequences.map((sequence) => stream.answerTo(sequence));
  await stream.recorder.finish(timeoutMs);
  if (pushed.batches !== 2n)
    return fail(
      "bundles.ingest",
      `an Ingest call of one bundle of 2 batches was answered IngestResponse.batches ${pushed.batches} (${label})`,
      FIX,
    );
  const wrong = answers.flatMap((answer, index) => {
    const ref = refText(refs[index] as (typeof refs)[number]);
    if (!answer) return [`the batch named by ${ref} got no answer`];
    return answer.refMissing ? [`the batch named by ${ref} was answered ref_missing`] : [];
  });
  return wrong.length === 0
    ? pass(
        "bundles.ingest",
        `two batches pushed in one Ingest bundle were each taken under their refs (${label})`,
      )
    : fail("bundles.ingest", `${wrong.join("; ")}, though both came in one Ingest bundle (${label})`, FIX);
}
