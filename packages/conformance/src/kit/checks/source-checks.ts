import { type CheckResult, fail, pass } from "../check-result";
import type { ConformContext } from "../conform-context";
import type { Scenario } from "../scenario";
import { lastLine, type ShellRun } from "../shell-command";
import { conformKeys, keyPatternFor, SourceReader } from "../source-reader";

/** Read settings the source checks use: several small batches out of the configured events. */
export function smallBatches(events: number): { maxBatchSize: number; maxBatchBytes: number } {
  return { maxBatchSize: Math.max(1, Math.ceil(events / 8)), maxBatchBytes: 256 * 1024 };
}

/**
 * Starts the conformance config's feed (if any): the scenario's keys, one per line, on its stdin.
 * A check stops it once it has what it needs: a feed may wait on the source (a webhook sender
 * waits for its answer, and retries after a crash), so it need not end by itself.
 */
export function startFeed(scenario: Scenario): ShellRun | undefined {
  const { feed, events } = scenario.config.source;
  if (!feed) return undefined;
  return scenario.shell(feed.command, `${conformKeys(scenario.placeholders.RUN, events).join("\n")}\n`);
}

/** Why the feed failed, if it ended by itself with an error. */
export function feedFailure(outcome: { code: number; stderr: string; stopped: boolean } | undefined) {
  return outcome && !outcome.stopped && outcome.code !== 0
    ? `feed failed (exit ${outcome.code}): ${lastLine(outcome.stderr)}`
    : undefined;
}

/**
 * How to fix a source that said it was exhausted before the scenario's events were read: the
 * feed writes once the stream has started, so the source must wait for input, not end at what it has.
 */
export function exhaustedFix(origin: string): string {
  return `the source ended its stream as exhausted before the scenario's events were all read: a source whose input may still come (the feed writes once the stream has started) must wait for more, not end the stream (a file source: "follow": true); check the "config" and "source.feed" of ${origin}`;
}

/**
 * The data plane of a source: the configured events arrive in batches numbered 1, 2, 3... without
 * gaps, within the batch size and bytes Core asked for, each with a checkpoint when the source
 * says it checkpoints, and every event a complete CloudEvent.
 */
export async function sourceChecks(context: ConformContext, scenario: Scenario): Promise<CheckResult[]> {
  const { component, timeoutMs } = context;
  const wanted = scenario.config.source.events;
  const limits = smallBatches(wanted);
  const reader = new SourceReader(context, keyPatternFor(scenario.placeholders.RUN), {
    initialCredits: 2,
    ...limits,
  });
  const feed = startFeed(scenario);
  await reader.recorder.until(
    () => reader.distinctKeys().size >= wanted || reader.exhausted !== undefined,
    Math.max(timeoutMs, 30_000),
  );
  const fed = feedFailure(await feed?.stop());
  const batches = reader.batches;
  await reader.recorder.finish(timeoutMs);
  const results: CheckResult[] = [];
  const got = reader.distinctKeys().size;
  // Events without a key point at the config; keyed events that stop short, at the source.
  const everyEventKeyed =
    reader.keysOf(batches).length ===
    batches.reduce((sum, batch) => sum + (batch.batch?.events.length ?? 0), 0);
  results.push(
    got >= wanted
      ? pass("data.events", `read the ${wanted} events of the scenario`)
      : fail(
          "data.events",
          `read ${got} of the ${wanted} events of the scenario (${batches.length} batches${reader.exhausted !== undefined ? `, then exhausted after batch ${reader.exhausted}` : ""}${reader.recorder.ended && reader.recorder.ended !== "ok" ? `; stream: ${reader.recorder.ended}` : ""}${fed ? `; ${fed}` : ""})`,
          reader.exhausted !== undefined && everyEventKeyed
            ? exhaustedFix(scenario.config.origin)
            : `check the "config" and "source.feed" of ${scenario.config.origin}: each event's data, id or subject must carry its key k<RUN>-<n>`,
        ),
  );
  const gaps = batches.filter((batch, index) => batch.sequence !== BigInt(index + 1));
  results.push(
    gaps.length === 0
      ? pass("data.sequence", `batches numbered 1..${batches.length} without a gap`)
      : fail(
          "data.sequence",
          `batch sequences ${batches.map((batch) => batch.sequence).join(", ")}: expected 1, 2, 3...`,
          "number the batches of each Read stream 1, 2, 3... without gaps",
        ),
  );
  const oversized = batches.filter(
    (batch) =>
      (batch.batch?.events.length ?? 0) > limits.maxBatchSize ||
      reader.batchBytes(batch) > limits.maxBatchBytes,
  );
  results.push(
    oversized.length === 0
      ? pass(
          "data.batch-limits",
          `every batch within max_batch_size ${limits.maxBatchSize} and max_batch_bytes ${limits.maxBatchBytes}`,
        )
      : fail(
          "data.batch-limits",
          `batch(es) ${oversized.map((batch) => `${batch.sequence} (${batch.batch?.events.length} events, ${reader.batchBytes(batch)} bytes)`).join(", ")} exceed max_batch_size ${limits.maxBatchSize} / max_batch_bytes ${limits.maxBatchBytes}`,
          "cut batches to ReadStart.max_batch_size events and max_batch_bytes bytes",
        ),
  );
  if (component.features?.checkpointing) {
    const without = batches.filter((batch) => !batch.checkpoint);
    results.push(
      without.length === 0
        ? pass("data.checkpoints", "every batch carries its checkpoint")
        : fail(
            "data.checkpoints",
            `batch(es) ${without.map((batch) => batch.sequence).join(", ")} carry no checkpoint though Describe says checkpointing`,
            "send with each SourceBatch the position after it, or set features.checkpointing false",
          ),
    );
  }
  const { events: major } = context;
  const problems = batches
    .flatMap((batch) => batch.batch?.events ?? [])
    .flatMap((event) => {
      const problem = major.cloudEventsProblem(event);
      return problem === undefined ? [] : [{ id: event.id, problem }];
    });
  results.push(
    problems.length === 0
      ? pass("data.cloudevents", `every event has ${major.cloudEventsRules}`)
      : fail(
          "data.cloudevents",
          `${problems.length} event(s) break the CloudEvents rules, e.g. ${JSON.stringify(problems[0]?.id)} ${problems[0]?.problem}`,
          `give every event a non-empty id, source and type, and specversion "1.0"${major.major > 1 ? "; in the CloudEvents Protobuf Format, subject and datacontenttype are ce_string attributes, time a ce_timestamp, dataschema a ce_uri, and no attribute is named id, source, specversion, type or data" : ""}`,
        ),
  );
  return results;
}
