import { UserError } from "@flow/errors";
import type { Delivery } from "./delivery";
import type { RawBatch } from "./raw-batch";
import { describeRef } from "./reference-batch";

/**
 * What a link makes of what happens to the batches it sent by reference (the direct data path):
 * Core holds none of their events, so a service that fails one must give its events back, and
 * events that are lost - the service says they never reached it, or its stream broke while it
 * held them - can only be read again from their sources: the run's data-plane restart
 * (data-plane-restart.ts), told which stage and batch.
 */

/** A delivery the service failed, and what came back with the failure. */
export interface FailedDelivery {
  stageId: string;
  sequence: bigint;
  delivery: Delivery;
  /** The events the service returned with the failure, if any. */
  returned: RawBatch | undefined;
  /** The answer's field that carries them, for the error (e.g. `BatchAck.returned`). */
  field: string;
}

/**
 * Before retrying or giving up on a delivery the service failed: one whose batch went by reference
 * takes, in its place, the events the service returned with the failure, so the retry or the dead
 * letters go through Core with them. A service that returned none breaks the contract (Core has
 * nothing to retry nor dead-letter): the error the run fails with; undefined otherwise (a batch
 * that went with its events is left as it is).
 */
export function takeReturnedEvents(failed: FailedDelivery): UserError | undefined {
  const { stageId, sequence, delivery, returned, field } = failed;
  const { ref } = delivery.batch;
  if (!ref) return undefined;
  if (returned) {
    delivery.batch = returned;
    return undefined;
  }
  return new UserError(
    `stage "${stageId}": the service failed batch ${sequence}, which it was sent by reference (${describeRef(ref)}), without returning its events in ${field}`,
    {
      hint: `a service that takes batches by reference (features.direct_path) returns a failed batch's events in ${field}, so that Core can retry or dead-letter them; or run with directPath: false`,
    },
  );
}

/** Why the data plane restarts when the service says the events of batch `sequence` never reached it (ref_missing). */
export function refMissingReason(stageId: string, sequence: bigint, delivery: Delivery): string {
  const what = delivery.batch.ref ? `, sent by reference (${describeRef(delivery.batch.ref)}),` : "";
  return `stage "${stageId}": the events of batch ${sequence}${what} never reached the service (ref_missing)`;
}

/**
 * Why the data plane restarts when a stage's stream broke (`reason`) while its link held batches
 * sent by reference: their events were with the service alone, and replaying the references to
 * its successor would find nothing (its Ingest lost them).
 */
export function refsLostInBreakReason(stageId: string, reason: string): string {
  return `stage "${stageId}": ${reason}, while it held batches sent by reference (their events were with its service alone)`;
}

/**
 * Why a break of a stage its upstreams push to restarts the data plane though Core held no
 * reference for it: what they pushed since its last answer is lost with its service, and their
 * streams name an address that is gone.
 */
export function pushesLostInBreakReason(stageId: string, reason: string): string {
  return `stage "${stageId}": ${reason}; its upstreams push batches to it directly, and what they pushed to the service that is gone is lost`;
}
