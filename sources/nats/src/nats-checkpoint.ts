import { PermanentError } from "@flow/sdk";

/**
 * What a checkpoint of this source says. `resumeSequence` is a stream sequence every message
 * before which is known committed (it is the consumer's ack floor + 1 as last seen, and this
 * source acknowledges only what Flow committed), so a consumer created anew can start there and
 * lose nothing. `reader` and `batch` name the batch the checkpoint closes, so a commit notice
 * acknowledges exactly the messages of the batches it covers.
 */
export interface NatsCheckpoint {
  stream: string;
  consumer: string;
  resumeSequence: number;
  reader: string;
  batch: number;
}

export function checkpointPosition(checkpoint: NatsCheckpoint): Buffer {
  return Buffer.from(JSON.stringify(checkpoint), "utf8");
}

/** The checkpoint a position encodes; a position this source did not write is a permanent failure. */
export function parseCheckpoint(position: Buffer): NatsCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(position.toString("utf8"));
  } catch {
    value = undefined;
  }
  const checkpoint = value as Partial<NatsCheckpoint> | undefined;
  if (
    typeof checkpoint !== "object" ||
    checkpoint === null ||
    typeof checkpoint.stream !== "string" ||
    typeof checkpoint.consumer !== "string" ||
    !Number.isSafeInteger(checkpoint.resumeSequence) ||
    typeof checkpoint.reader !== "string" ||
    !Number.isSafeInteger(checkpoint.batch)
  ) {
    throw new PermanentError(
      `the checkpoint ${JSON.stringify(position.toString("utf8").slice(0, 200))} was not written by flow-source-nats; reset it with flow checkpoints reset`,
    );
  }
  return checkpoint as NatsCheckpoint;
}
