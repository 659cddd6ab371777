import type { StoredCheckpoint } from "@flow/core";

/** A checkpoint as `--json` prints it: the opaque position as base64. */
export function checkpointJson(checkpoint: StoredCheckpoint): Record<string, unknown> {
  return { ...checkpoint, position: Buffer.from(checkpoint.position).toString("base64") };
}
