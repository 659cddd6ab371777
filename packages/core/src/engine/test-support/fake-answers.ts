import { AckStatus, type WriteResponse } from "../../gen/consumer_service/v1/consumer";

/** A consumer's answer that batch `sequence` is written. */
export const written = (sequence: bigint): WriteResponse =>
  ({
    response: { $case: "ack", value: { sequence, status: AckStatus.ACK_STATUS_WRITTEN, reason: "" } },
  }) as WriteResponse;

/** Source checkpoint number `n`, as a source would send it. */
export const checkpoint = (n: number) => ({ position: Buffer.from(String(n)), description: `after ${n}` });
