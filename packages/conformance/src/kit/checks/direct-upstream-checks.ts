import type { PeerRef } from "../../gen/peer/v1/peer";
import { type CheckResult, fail, pass } from "../check-result";
import type { ConformContext } from "../conform-context";
import type { KitEvent } from "../event-majors";
import { KitPeer, refText } from "../kit-peer";
import type { Scenario } from "../scenario";
import { keyPatternFor, SourceReader } from "../source-reader";
import type { ProcessedBatch, ProcessResponse, SourceBatch } from "../stream-messages";
import type { StreamRecorder } from "../stream-recorder";
import { firstDifferences, openProcess, processedBatches } from "./processor-checks";
import { feedFailure, smallBatches, startFeed } from "./source-checks";

/** The limits a peer's Peer names: what a batch pushed to it must keep. */
interface PeerLimits {
  maxBatchSize: number;
  maxBatchBytes: number;
}

const fits = (limits: PeerLimits, count: number, bytes: number): boolean =>
  (limits.maxBatchSize === 0 || count <= limits.maxBatchSize) &&
  (limits.maxBatchBytes === 0 || bytes <= limits.maxBatchBytes);

/** Two kit peers, each waking `onPushed` as batches come; closed by `close`. */
async function twoPeers(major: number, onPushed: () => void): Promise<KitPeer[]> {
  return Promise.all([KitPeer.start(major, onPushed), KitPeer.start(major, onPushed)]);
}

const peersOf = (peers: KitPeer[], limits: PeerLimits) =>
  peers.map((peer, index) => peer.peer(`conform-peer-${index + 1}`, limits));

/**
 * What is wrong with a batch the service told the kit it pushed under `ref`, of `count` events and
 * `bytes` bytes: not on every peer (lost), other than it said, not the same on every peer, or too
 * large for them.
 */
function pushedProblems(
  what: string,
  ref: PeerRef,
  count: number,
  bytes: number,
  peers: KitPeer[],
  limits: PeerLimits,
): string[] {
  const found: string[] = [];
  if (ref.stream === "" || ref.handle < 1n)
    found.push(`${what}: its ref ${refText(ref)} needs a stream id and a handle from 1`);
  const arrived = peers.map((peer) => peer.find(ref));
  arrived.forEach((batch, index) => {
    if (!batch)
      found.push(`${what}: nothing came to peer ${index + 1}'s Ingest under its ref ${refText(ref)}`);
  });
  const first = arrived.find((batch) => batch !== undefined);
  if (!first) return found;
  if (first.events.length !== count)
    found.push(`${what} says ${count} event(s), the batch pushed under its ref holds ${first.events.length}`);
  if (first.bytes.length !== bytes)
    found.push(`${what} says ${bytes} bytes, the batch pushed under its ref has ${first.bytes.length}`);
  if (arrived.some((batch) => batch && !Buffer.from(batch.bytes).equals(Buffer.from(first.bytes))))
    found.push(`${what}: the peers were pushed different batches under the one ref ${refText(ref)}`);
  if (!fits(limits, first.events.length, first.bytes.length))
    found.push(
      `${what} was pushed though it does not fit the peers (${first.events.length} events, ${first.bytes.length} bytes; max_batch_size ${limits.maxBatchSize}, max_batch_bytes ${limits.maxBatchBytes})`,
    );
  return found;
}

/** Waits until every peer has the batches of `refs` (pushed before Core was told, but on another connection). */
async function untilPushed(peers: KitPeer[], refs: PeerRef[], timeoutMs: number): Promise<void> {
  await Promise.all(peers.map((peer) => peer.until(() => refs.every((ref) => peer.find(ref)), timeoutMs)));
}

/** Waits until every Ingest call made to the peers ended; the problem when one did not. */
async function ingestEndProblem(peers: KitPeer[], stream: string, timeoutMs: number): Promise<string[]> {
  await Promise.all(peers.map((peer) => peer.until(() => peer.allCallsEnded, timeoutMs)));
  return peers.every((peer) => peer.allCallsEnded)
    ? []
    : [`the Ingest calls to the peers were still open ${timeoutMs} ms after the ${stream} stream ended`];
}

const PEERS_FIX =
  "where the stream's start names peers, push every batch of events that fits all of them (max_batch_size, max_batch_bytes of the encoded CloudEventBatch) to each peer's Ingest under one PeerRef (your stream id, handles from 1) before telling Core its ref, event count and size instead of its events; send any other batch to Core with its events; end the Ingest calls when the stream ends";

/**
 * A source given peers (the kit's own Ingest servers, with the Read stream's limits): every batch
 * that fits comes to both peers as a IngestRequest and to the kit as a ref with its event_count and
 * batch_bytes; none that fits comes with its events; every event of the scenario arrives; the
 * Ingest calls end with the Read stream.
 */
export async function sourcePushCheck(context: ConformContext, scenario: Scenario): Promise<CheckResult> {
  const { timeoutMs } = context;
  const wanted = scenario.config.source.events;
  const limits = smallBatches(wanted);
  let reader: SourceReader | undefined;
  const peers = await twoPeers(context.major, () => reader?.recorder.recheck());
  try {
    const current = new SourceReader(context, keyPatternFor(scenario.placeholders.RUN), {
      initialCredits: 2,
      ...limits,
      peers: peersOf(peers, limits),
    });
    reader = current;
    const eventsOf = (batch: SourceBatch): KitEvent[] =>
      batch.ref ? (peers[0]?.find(batch.ref)?.events ?? []) : (batch.batch?.events ?? []);
    const keys = (batches: SourceBatch[]) => new Set(current.keysOfEvents(batches.flatMap(eventsOf)));
    const feed = startFeed(scenario);
    await current.recorder.until(
      () => keys(current.batches).size >= wanted || current.exhausted !== undefined,
      Math.max(timeoutMs, 30_000),
    );
    const batches = current.batches.slice();
    const refs = batches.flatMap((batch) => (batch.ref ? [batch.ref] : []));
    await untilPushed(peers, refs, timeoutMs);
    const fed = feedFailure(await feed?.stop());
    await current.recorder.finish(timeoutMs);

    const problems: string[] = [];
    const seen = new Set<string>();
    for (const batch of batches) {
      const what = `batch ${batch.sequence}`;
      const count = batch.batch?.events.length ?? 0;
      if (batch.ref) {
        if (seen.has(refText(batch.ref)))
          problems.push(`${what} names the ref ${refText(batch.ref)} a batch before it did`);
        seen.add(refText(batch.ref));
        if (count > 0) problems.push(`${what} carries both a ref and its ${count} event(s)`);
        problems.push(
          ...pushedProblems(
            what,
            batch.ref,
            batch.eventCount ?? 0,
            Number(batch.batchBytes ?? 0n),
            peers,
            limits,
          ),
        );
      } else if (count > 0 && fits(limits, count, current.batchBytes(batch))) {
        problems.push(
          `${what} (${count} events, ${current.batchBytes(batch)} bytes) fits the peers but came to Core with its events`,
        );
      }
    }
    const got = keys(batches).size;
    if (got < wanted)
      problems.push(
        `${got} of the scenario's ${wanted} events arrived, through the peers and Core (${batches.length} batches${current.recorder.ended && current.recorder.ended !== "ok" ? `; stream: ${current.recorder.ended}` : ""}${fed ? `; ${fed}` : ""})`,
      );
    problems.push(...(await ingestEndProblem(peers, "Read", timeoutMs)));
    return problems.length === 0
      ? pass(
          "direct.peers",
          `${refs.length} of ${batches.length} batch(es) pushed to both peers, each told as a ref with its event_count and batch_bytes; every event of the scenario arrived; the Ingest calls ended with the Read stream`,
        )
      : fail("direct.peers", firstDifferences(problems), PEERS_FIX);
  } finally {
    for (const peer of peers) peer.close();
  }
}

/** Sends the one batch of a Process stream and waits for its answer. */
async function answerOn(
  recorder: StreamRecorder<ProcessResponse>,
  sequence: bigint,
  events: KitEvent[],
  timeoutMs: number,
): Promise<ProcessedBatch | undefined> {
  const answer = () => processedBatches(recorder).find((batch) => batch.inputSequence === sequence);
  recorder.call.write({ request: { $case: "batch", value: { sequence, batch: { events } } } });
  // The stream's one batch: any answer settles it (one with another sequence is no answer to it).
  await recorder.until(() => processedBatches(recorder).length > 0, timeoutMs);
  return answer();
}

/** What differs between the events pushed (or passed on) and those the processor answers Core with. */
function eventDifferences(context: ConformContext, expected: KitEvent[], got: KitEvent[]): string[] {
  const major = context.events;
  if (expected.length !== got.length) return [`${got.length} event(s), without peers ${expected.length}`];
  return expected.flatMap((event, index) => {
    const other = got[index] as KitEvent;
    return major.canonical(other).equals(major.canonical(event))
      ? []
      : [`event ${event.id}: ${major.differences(event, other).join(", ")}`];
  });
}

/**
 * A processor given peers (the kit's own Ingest servers): its output of the sample batch comes to
 * both peers as a IngestRequest, the events it answers without peers, and to the kit as output_ref
 * with output_count and output_bytes, its dead letters as without peers; an output that does not
 * fit the peers (max_batch_bytes 1) comes with its events; the Ingest calls end with the stream.
 */
export async function processorPushCheck(context: ConformContext): Promise<CheckResult> {
  const { timeoutMs } = context;
  const events = context.events.sampleEvents(context.config.events, "conform-direct-push");
  const plain = openProcess(context);
  const reference = await answerOn(plain, 401n, events, timeoutMs);
  await plain.finish(timeoutMs);
  if (!reference)
    return fail(
      "direct.peers",
      `the sample batch got no answer with its sequence (without peers)`,
      "answer every batch",
    );
  const out = reference.batch?.events ?? [];
  const limits: PeerLimits = { maxBatchSize: 1000, maxBatchBytes: 4 * 1024 * 1024 };
  const tight: PeerLimits = { maxBatchSize: 0, maxBatchBytes: 1 };
  let streams: StreamRecorder<ProcessResponse>[] = [];
  const peers = await twoPeers(context.major, () => {
    for (const stream of streams) stream.recheck();
  });
  try {
    const pushing = openProcess(context, peersOf(peers, limits));
    const small = openProcess(
      context,
      [peers[0]?.peer("conform-peer-small", tight)].filter((peer) => !!peer),
    );
    streams = [pushing, small];
    const [direct, notFitting] = await Promise.all([
      answerOn(pushing, 402n, events, timeoutMs),
      answerOn(small, 403n, events, timeoutMs),
    ]);
    const problems: string[] = [];
    if (!direct) problems.push(`with peers, the sample batch got no answer with its sequence`);
    else if (out.length === 0) {
      if (direct.outputRef) problems.push("an output of no events was pushed to the peers; it goes to Core");
    } else if (!direct.outputRef) {
      problems.push(`the output (${out.length} event(s)) fits the peers but came to Core with its events`);
    } else {
      const what = "the answer with peers";
      await untilPushed(peers, [direct.outputRef], timeoutMs);
      problems.push(
        ...pushedProblems(
          what,
          direct.outputRef,
          direct.outputCount ?? 0,
          Number(direct.outputBytes ?? 0n),
          peers,
          limits,
        ),
      );
      const pushed = peers[0]?.find(direct.outputRef);
      if (pushed)
        problems.push(...eventDifferences(context, out, pushed.events).map((found) => `pushed: ${found}`));
      if ((direct.batch?.events.length ?? 0) > 0)
        problems.push(`${what} carries both an output_ref and events`);
      if (direct.deadLetters.length !== reference.deadLetters.length)
        problems.push(
          `${what} has ${direct.deadLetters.length} dead letter(s), without peers ${reference.deadLetters.length}`,
        );
    }
    if (!notFitting)
      problems.push(`with a peer it does not fit, the sample batch got no answer with its sequence`);
    else if (notFitting.outputRef)
      problems.push(
        `an output was pushed to a peer whose max_batch_bytes is ${tight.maxBatchBytes}: it goes to Core`,
      );
    else
      problems.push(
        ...eventDifferences(context, out, notFitting.batch?.events ?? []).map(
          (found) => `with a peer it does not fit: ${found}`,
        ),
      );
    await Promise.all([pushing.finish(timeoutMs), small.finish(timeoutMs)]);
    problems.push(...(await ingestEndProblem(peers, "Process", timeoutMs)));
    return problems.length === 0
      ? pass(
          "direct.peers",
          out.length === 0
            ? "the sample batch's output has no events, and went to Core as it should (nothing to push)"
            : `an output of ${out.length} event(s) pushed to both peers under ${refText(direct?.outputRef)}, told as output_ref with output_count and output_bytes; one that does not fit came with its events; the Ingest calls ended with the Process stream`,
        )
      : fail("direct.peers", firstDifferences(problems), PEERS_FIX);
  } finally {
    for (const peer of peers) peer.close();
  }
}
