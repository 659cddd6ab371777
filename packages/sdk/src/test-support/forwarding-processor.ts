import type { ProcessorDefinition } from "../processor";
import { PermanentError } from "../service-errors";

/**
 * A processor of encoded batches that keeps a copy of every batch it gets (`seen`) and passes it on
 * as it is; the batch numbered `refuseAt` (from 1) it refuses with a PermanentError instead.
 */
export function forwardingProcessor(refuseAt?: number): {
  definition: ProcessorDefinition<object>;
  seen: Buffer[];
} {
  const seen: Buffer[] = [];
  const definition: ProcessorDefinition<object> = {
    name: "test-forward",
    version: "1.0.0",
    configSchema: { type: "object" },
    processEncoded(batch) {
      seen.push(Buffer.from(batch));
      if (seen.length === refuseAt) throw new PermanentError("no route for this batch");
      return batch;
    },
  };
  return { definition, seen };
}
