import { type MessageCodec, withoutUnknownFields } from "../message-codec";

/**
 * Fully populated instances of every message of one contract, several where a message has a
 * oneof (one per case), so each round-trip test exercises every field.
 */
export interface ContractSamples {
  /** The contract, e.g. "event/v1". */
  contract: string;
  /** The generated module (its message codecs are found by name). */
  module: Record<string, unknown>;
  samples: Record<string, readonly unknown[]>;
}

/**
 * Samples typed against the generated codec, so a misspelt field fails to compile; without the
 * empty `_unknownFields` that fromPartial adds, so they compare equal to decoded messages.
 */
export function samplesOf<T>(_codec: MessageCodec<T>, ...messages: T[]): readonly T[] {
  return messages.map(withoutUnknownFields);
}

/** `contract` with `more` samples of some of its messages (a later minor's fields, say) added. */
export function withSamples(
  contract: ContractSamples,
  more: Record<string, readonly unknown[]>,
): ContractSamples {
  const samples = { ...contract.samples };
  for (const [message, added] of Object.entries(more))
    samples[message] = [...(samples[message] ?? []), ...added];
  return { ...contract, samples };
}
