import { StreamReader } from "@flow/testing";
import type * as grpc from "@grpc/grpc-js";
import type { CloudEvent } from "../gen/event/v2/event";
import type { Peer, PeerRef } from "../gen/peer/v1/peer";
import type { ReadRequest } from "../gen/source_service/v2/source";

type Oneof = { response?: { $case: string; value: unknown } };

/**
 * A test Core's Process or Write stream on v2: the start it opens with, batches sent with their
 * events or by reference (the direct data path), and the answers read in order, each of which must
 * be of `answerCase` (`batch` for a processor, `ack` for a consumer).
 */
export function coreStream<Request, Response extends Oneof, Answer>(
  call: grpc.ClientDuplexStream<Request, Response>,
  start: Request,
  answerCase: string,
) {
  const reader = new StreamReader<Request, Response>(call);
  call.write(start);
  const batch = (value: object): void => {
    call.write({ request: { $case: "batch", value } } as Request);
  };
  return {
    call,
    reader,
    events: (sequence: bigint, events: CloudEvent[]): void => batch({ sequence, batch: { events } }),
    ref: (sequence: bigint, ref: PeerRef): void => batch({ sequence, ref }),
    async answer(): Promise<Answer> {
      const message = await reader.next();
      if (message.response?.$case !== answerCase)
        throw new Error(`expected ${answerCase}, got ${message.response?.$case ?? "an empty response"}`);
      return message.response.value as Answer;
    },
  };
}

/** The start of a Read stream on v2, as Core sends it: no checkpoint, 100 credits, the source's own batch sizes. */
export function readStartV2(
  options: { maxBatchBytes?: number; peers?: Peer[]; stageId?: string } = {},
): ReadRequest {
  return {
    request: {
      $case: "start",
      value: {
        configJson: "{}",
        checkpoint: undefined,
        initialCredits: 100,
        maxBatchSize: 0,
        lingerMs: 0,
        stageId: options.stageId ?? "source",
        maxBatchBytes: BigInt(options.maxBatchBytes ?? 0),
        peers: options.peers ?? [],
        acceptsBundles: false,
      },
    },
  };
}
