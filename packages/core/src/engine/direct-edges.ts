import type { FamilyName } from "@flow/sdk/internal";
import { methodPath } from "../clients/family-contracts";
import type { Peer } from "../gen/peer/v1/peer";
import type { LinkEndpoint } from "./link-stream";
import { DIRECT_PATH_MAJOR } from "./reference-batch";
import type { StageRecord } from "./stage-record";

/** What deciding the direct edges needs beside the records: the run's switch and the services. */
export interface DirectPathParts {
  /** The pipeline's `directPath` (FLOW_DIRECT_PATH=off already applied by the config). */
  enabled: boolean;
  /** Where Core dials each stage's service, and the contract it negotiated there. */
  endpoint(stageId: string): Pick<LinkEndpoint, "target" | "contract" | "bundles">;
}

/** The families that push their output on the direct data path, and those that take it. */
const UPSTREAM_FAMILIES: readonly FamilyName[] = ["source", "processor"];
const DOWNSTREAM_FAMILIES: readonly FamilyName[] = ["processor", "consumer"];

/**
 * Whether batches may go from `from` to `to` directly: the switch is on, `from` is a source or a
 * processor and `to` a processor or a consumer, both negotiated their family contract at the
 * major that has the direct data path (v2) and said features.direct_path in Describe, and `to`
 * takes batches no larger than `from` makes (else Core merges for it). A v1 or a
 * Python service, or one started with directPath off, keeps every edge it is on through Core.
 */
export function isDirectEdge(from: StageRecord, to: StageRecord, parts: DirectPathParts): boolean {
  return throughCoreReason(from, to, parts) === undefined;
}

/** Why the edge from `from` to `to` cannot be direct (see isDirectEdge), or undefined when it can. */
export function throughCoreReason(
  from: StageRecord,
  to: StageRecord,
  parts: DirectPathParts,
): string | undefined {
  if (!parts.enabled)
    return "the direct data path is off (directPath: false, FLOW_DIRECT_PATH=off, or tracing)";
  if (!UPSTREAM_FAMILIES.includes(from.stage.family) || !DOWNSTREAM_FAMILIES.includes(to.stage.family))
    return `a ${from.stage.family}'s output to a ${to.stage.family} goes through Core`;
  for (const record of [from, to]) {
    if (!speaksDirectPath(record, parts))
      return `"${record.id}" does not take part: its service speaks contract v${parts.endpoint(record.id).contract?.major ?? "?"}${record.directPathCapable ? "" : " and does not say features.direct_path"}`;
  }
  // A stage that takes larger batches than its upstream makes gets what waited behind its busy
  // stream merged by Core (batching while busy), which needs the events: that edge stays
  // through Core.
  const taken = to.stage.settings.batch.maxSize;
  const made = from.stage.settings.batch.maxSize;
  if (taken > made)
    return `"${to.id}" takes larger batches (batch.maxSize ${taken}) than "${from.id}" makes (${made}): Core merges them`;
  return undefined;
}

function speaksDirectPath(record: StageRecord, parts: DirectPathParts): boolean {
  return record.directPathCapable && parts.endpoint(record.id).contract?.major === DIRECT_PATH_MAJOR;
}

/**
 * How many more bytes a IngestRequest (Ingest) puts around a batch than the InputBatch or WriteBatch
 * the record's byte limit leaves room for (BATCH_REQUEST_FRAMING_BYTES): the reference - its
 * tag and length (2), the stream id's tag, length and text (2 + 64: the SDK's are 36-character
 * UUIDs) and the handle's tag and varint (1 + 10) - less the sequence the request had (11). A
 * batch at the very limit would otherwise reach the service's Ingest as a message over its limit.
 */
export const PEER_BATCH_EXTRA_FRAMING_BYTES = 2 + 2 + 64 + 1 + 10 - 11;

/**
 * The peers `upstream`'s stream is opened with (ReadStart.peers, ProcessStart.peers): one per
 * output, in file order, when EVERY edge out of it is direct; none otherwise, and `upstream` sends
 * everything through Core (an output may still get references from another upstream). Each names
 * the output's stage, the target Core itself dials it at, the largest batch it takes as the Router
 * cuts to it (batch.maxSize, and its negotiated byte limit less PEER_BATCH_EXTRA_FRAMING_BYTES; 0
 * for none) and its Ingest rpc. A batch over them goes through Core, which cuts it as usual.
 */
export function directPeers(upstream: StageRecord, parts: DirectPathParts): Peer[] {
  const { outputs } = upstream;
  if (outputs.length === 0 || !outputs.every((to) => isDirectEdge(upstream, to, parts))) return [];
  return outputs.map((to) => ({
    stageId: to.id,
    address: parts.endpoint(to.id).target,
    maxBatchSize: to.limit.maxEvents,
    maxBatchBytes: peerByteLimit(to.limit.maxBytes),
    ingestMethod: methodPath(to.stage.family, DIRECT_PATH_MAJOR, "ingest"),
    bundles: readsIngestBundles(parts.endpoint(to.id)),
  }));
}

/** The minor of the family contracts (at v2) from which a service that reads bundles reads them on Ingest too. */
export const INGEST_BUNDLES_MINOR = 3;

/**
 * Whether a downstream stage reads bundles on Ingest (Peer.bundles): its data stream carries
 * bundles (bundlesAgreed: the run allows them, it said features.bundles) and it serves its family
 * contract at 2.3 or later. A 2.2 service that says features.bundles reads them on its data stream
 * only, so its upstreams push one message per batch.
 */
export function readsIngestBundles(endpoint: Pick<LinkEndpoint, "contract" | "bundles">): boolean {
  const contract = endpoint.contract;
  if (endpoint.bundles !== true || contract?.major !== DIRECT_PATH_MAJOR) return false;
  const minor = Number(contract.version.split(".")[1]);
  return Number.isInteger(minor) && minor >= INGEST_BUNDLES_MINOR;
}

/** 0 (none) for no limit; never 0 for a limit, however small (then nothing fits and all goes through Core). */
function peerByteLimit(maxBytes: number): bigint {
  if (!Number.isFinite(maxBytes)) return 0n;
  return BigInt(Math.max(1, maxBytes - PEER_BATCH_EXTRA_FRAMING_BYTES));
}

/**
 * Whether some upstream pushes its output to `downstream` (names it among its peers): when
 * `downstream`'s service goes away, what was pushed to it in the meantime is lost, whether or not
 * Core held a reference yet, and the upstreams' streams name an address that is gone.
 */
export function isPushedTo(
  downstream: StageRecord,
  records: Iterable<StageRecord>,
  parts: DirectPathParts,
): boolean {
  return [...records].some((record) =>
    directPeers(record, parts).some((peer) => peer.stageId === downstream.id),
  );
}

/** One edge of a pipeline and the way its batches go (`flow validate` shows them). */
export interface EdgePath {
  from: string;
  to: string;
  path: "direct" | "core";
  /** Why a "core" edge is not direct. */
  reason?: string;
}

/**
 * Every edge, in file order, and whether it is direct. An upstream pushes directly only when every
 * one of its edges can be direct (directPeers), so an edge that could be direct on its own is
 * through Core when a sibling is not.
 */
export function edgePaths(records: Iterable<StageRecord>, parts: DirectPathParts): EdgePath[] {
  return [...records].flatMap((from) => {
    if (directPeers(from, parts).length > 0)
      return from.outputs.map((to): EdgePath => ({ from: from.id, to: to.id, path: "direct" }));
    const reasons = from.outputs.map((to) => throughCoreReason(from, to, parts));
    const blocker = from.outputs.find((_, index) => reasons[index] !== undefined);
    return from.outputs.map(
      (to, index): EdgePath => ({
        from: from.id,
        to: to.id,
        path: "core",
        reason:
          reasons[index] ??
          `"${from.id}" pushes only when all its outputs can take it, and "${blocker?.id}" cannot`,
      }),
    );
  });
}

/** The edges batches go along directly, as "from -> to" (for the run's log), in file order. */
export function directEdges(records: Iterable<StageRecord>, parts: DirectPathParts): string[] {
  return edgePaths(records, parts)
    .filter((edge) => edge.path === "direct")
    .map((edge) => `${edge.from} -> ${edge.to}`);
}
