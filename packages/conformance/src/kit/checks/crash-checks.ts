import { type CheckResult, fail, pass, skip } from "../check-result";
import type { ConformContext } from "../conform-context";
import type { Scenario } from "../scenario";
import type { ServiceInstance } from "../service-launcher";
import { keyPatternFor, SourceReader } from "../source-reader";
import type { SourceBatch } from "../stream-messages";
import { acks, batchWrite, openWrite } from "./consumer-checks";
import { batchRequest, openProcess, processedBatches } from "./processor-checks";
import { exhaustedFix, smallBatches, startFeed } from "./source-checks";

export type CrashMoment = "mid-batch" | "mid-commit";

/**
 * Starts a fresh process of the service in the same scenario (same `${RUN}`, folder, port). The
 * caller stops what it started (and may go on using it for the next check).
 */
export type Restart = () => Promise<ServiceInstance | undefined>;

/**
 * A source SIGKILLed in the middle of a batch, or right after Core's commit notice left, then
 * restarted from the committed checkpoint, must go on from there: every event of the scenario
 * delivered (no gap), and an event delivered twice only if it came after the commit before last
 * (what was in flight when it died: its upstream may not have heard the last commit).
 *
 * Before the kill: batch 1 is committed, batches 2 and 3 arrive; mid-commit commits batch 3 and
 * kills at once; mid-batch commits batch 2, waits for batch 4 and kills while batch 5 is asked for.
 */
export async function sourceCrashCheck(
  context: ConformContext,
  scenario: Scenario,
  moment: CrashMoment,
  restart: Restart,
): Promise<CheckResult> {
  const id = `crash.${moment}`;
  const child = context.instance.process;
  if (!child) return skip(id, "the kit did not start the service");
  if (!context.component.features?.checkpointing)
    return skip(id, "Describe says the source does not checkpoint");
  const wanted = scenario.config.source.events;
  const pattern = keyPatternFor(scenario.placeholders.RUN);
  const limits = { initialCredits: 1, ...smallBatches(wanted) };
  const waitMs = Math.max(context.timeoutMs, 30_000);

  const first = new SourceReader(context, pattern, limits);
  const feed = startFeed(scenario);
  const need = moment === "mid-batch" ? 4 : 3;
  await first.untilBatches(1, waitMs);
  const [batch1] = first.batches;
  if (batch1) {
    await first.commit(batch1);
    // A source acts on a commit notice in its own time (a broker source acknowledges upstream, and
    // its client sends that on a later tick): only a batch it sends after the notice shows it has
    // had that time, so batch 1 counts as surely committed from then on, not from the notice.
    await first.untilBatches(first.batches.length + 1, waitMs);
  }
  await first.untilBatches(need, waitMs);
  const before = first.batches.slice();
  if (before.length < need) {
    // What ended the wait, seen before the kill ends the stream.
    const { exhausted } = first;
    const ended = first.recorder.ended;
    await child.kill();
    await feed?.stop();
    // Too few events for the kill point is the config's limit; enough events and still too few
    // batches is the source's (or its feed's) failure, not a reason to skip the check.
    if (Math.ceil(wanted / limits.maxBatchSize) < need)
      return skip(
        id,
        `the scenario's ${wanted} events make fewer than the ${need} batches the kill point needs (raise source.events)`,
      );
    const then =
      exhausted !== undefined
        ? `, then said it was exhausted after batch ${exhausted},`
        : ended !== undefined
          ? `, then its stream ended (${ended}),`
          : ` within ${waitMs} ms,`;
    return fail(
      id,
      `the source sent ${before.length} batch(es)${then} before the kill point (needs ${need} of the ${wanted} events, ${limits.maxBatchSize} per batch)`,
      exhausted !== undefined
        ? exhaustedFix(scenario.config.origin)
        : `check that the "source.feed" of ${scenario.config.origin} reaches the source, and that it sends a batch per credit`,
    );
  }
  let committed: SourceBatch;
  if (moment === "mid-commit") {
    committed = before[2] as SourceBatch;
    await first.commit(committed);
  } else {
    committed = before[1] as SourceBatch;
    await first.commit(committed);
    await first.untilBatches(4, waitMs);
  }
  await child.kill();
  const deliveredBefore = first.keysOf(first.batches);
  const surelyCommitted = new Set(first.keysOf([batch1 as SourceBatch]));

  const second = await restart();
  if (!second) {
    await feed?.stop();
    return fail(
      id,
      "the service did not start again after SIGKILL",
      "a restarted service must come back: check its stderr",
    );
  }
  const resumed = new SourceReader({ ...context, instance: second }, pattern, {
    ...limits,
    initialCredits: 2,
    checkpoint: committed.checkpoint,
  });
  const committedKeys = new Set(
    first.keysOf(first.batches.filter((batch) => batch.sequence <= committed.sequence)),
  );
  const covered = (): boolean => {
    const seen = new Set([...committedKeys, ...resumed.distinctKeys()]);
    return seen.size >= wanted;
  };
  await resumed.recorder.until(() => covered() || resumed.exhausted !== undefined, waitMs);
  await resumed.recorder.finish(context.timeoutMs);
  await feed?.stop();

  const after = resumed.keysOf(resumed.batches);
  const seen = new Set([...committedKeys, ...after]);
  const missing = Array.from({ length: wanted }, (_unused, index) => index + 1).filter(
    (key) => !seen.has(key),
  );
  const beforeSet = new Set(deliveredBefore);
  const duplicates = after.filter((key) => beforeSet.has(key));
  const tooOld = duplicates.filter((key) => surelyCommitted.has(key));
  const twiceAfter = after.filter((key, index) => after.indexOf(key) !== index);
  const where = `committed through batch ${committed.sequence} (checkpoint ${committed.checkpoint?.description || Buffer.from(committed.checkpoint?.position ?? []).toString("hex")})`;
  if (missing.length > 0)
    return fail(
      id,
      `after SIGKILL ${moment === "mid-batch" ? "in the middle of a batch" : "during a commit"} and a restart from the checkpoint ${where}, ${missing.length} event(s) never came: keys ${range(missing)} (a gap)`,
      "resume exactly after the checkpoint in ReadStart, and let the upstream forget an event only after its commit notice",
    );
  if (tooOld.length > 0 || twiceAfter.length > 0)
    return fail(
      id,
      tooOld.length > 0
        ? `after the restart ${where}, events of batch 1 (committed before the last commit) came again: keys ${range(tooOld)}; duplicates must be bounded by what was in flight`
        : `after the restart the same events came twice on one stream: keys ${range(twiceAfter)}`,
      "resume from the checkpoint Core hands back in ReadStart, not from an older position",
    );
  return pass(
    id,
    `SIGKILL ${moment === "mid-batch" ? "mid-batch" : "mid-commit"}, restart from the checkpoint ${where}: no gap, ${duplicates.length} duplicate(s), all in flight at the kill`,
  );
}

function range(keys: number[]): string {
  const sorted = [...new Set(keys)].sort((a, b) => a - b);
  return sorted.length > 8 ? `${sorted.slice(0, 8).join(", ")}... (${sorted.length})` : sorted.join(", ");
}

/**
 * A processor or consumer SIGKILLed with batches in flight keeps no state Core relies on: Core
 * sends the unanswered batches again to the restarted service, and each must be answered once.
 * (Duplicates a consumer's system sees are then exactly the batches in flight at the kill; an
 * idempotent consumer keyed by event id removes even those.)
 */
export async function replayCrashCheck(context: ConformContext, restart: Restart): Promise<CheckResult> {
  const id = "crash.mid-batch";
  const child = context.instance.process;
  if (!child) return skip(id, "the kit did not start the service");
  const open = (instance: ServiceInstance) => {
    const scoped = { ...context, instance };
    if (context.family === "processor") {
      const recorder = openProcess(scoped);
      return {
        recorder,
        send: (sequence: bigint, tag: string) =>
          recorder.call.write(
            batchRequest(sequence, { events: context.events.sampleEvents(context.config.events, tag) }),
          ),
        answered: () => processedBatches(recorder).map((batch) => batch.inputSequence),
      };
    }
    const recorder = openWrite(scoped);
    return {
      recorder,
      send: (sequence: bigint, tag: string) =>
        recorder.call.write(
          batchWrite(sequence, { events: context.events.sampleEvents(context.config.events, tag) }),
        ),
      answered: () => acks(recorder).map((ack) => ack.sequence),
    };
  };
  const sequences = [401n, 402n, 403n, 404n, 405n, 406n];
  const tag = (sequence: bigint) => `conform-crash-${process.pid}-${Date.now()}-${sequence}`;
  const first = open(context.instance);
  for (const sequence of sequences) first.send(sequence, tag(sequence));
  await first.recorder.until(() => first.answered().length > 0, context.timeoutMs);
  await child.kill();
  const answeredBefore = new Set(first.answered());
  const replay = sequences.filter((sequence) => !answeredBefore.has(sequence));
  const second = await restart();
  if (!second)
    return fail(
      id,
      "the service did not start again after SIGKILL",
      "a restarted service must come back: check its stderr",
    );
  const again = open(second);
  for (const sequence of replay) again.send(sequence, tag(sequence));
  await again.recorder.until(
    () => replay.every((sequence) => again.answered().includes(sequence)),
    context.timeoutMs,
  );
  await again.recorder.finish(context.timeoutMs);
  const answers = again.answered();
  const missing = replay.filter((sequence) => !answers.includes(sequence));
  const extra = answers.filter(
    (sequence, index) => !replay.includes(sequence) || answers.indexOf(sequence) !== index,
  );
  if (missing.length > 0 || extra.length > 0)
    return fail(
      id,
      `after SIGKILL with ${replay.length} batch(es) in flight and a restart, the replayed batches ${missing.length > 0 ? `${missing.join(", ")} got no answer` : `were answered wrongly (${extra.join(", ")})`}`,
      "keep no state between streams that a crash can break: answer each batch of a new stream once",
    );
  return pass(
    id,
    `SIGKILL with ${replay.length} batch(es) in flight, restart: each replayed batch answered once`,
  );
}
