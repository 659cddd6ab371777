import type { InputBatch, ProcessedBatch } from "../gen/processor_service/v1/processor";

// The baseline's processing step, typed with the generated processor_service messages: what an
// identity processor answers for one input batch (every event passed on, no dead letters).
export function identityProcess(input: InputBatch): ProcessedBatch {
  return { inputSequence: input.sequence, batch: input.batch, deadLetters: [], failure: undefined };
}
