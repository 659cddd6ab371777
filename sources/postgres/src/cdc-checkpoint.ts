import { PermanentError } from "@flow/sdk";
import { formatLsn, type Lsn, parseLsn } from "./lsn";

/**
 * Where a cdc read stands after a batch: every transaction whose commit ends at or before `lsn` is
 * wholly emitted, and of the transaction committed next (at `partial.commitLsn`) the first
 * `partial.emitted` changes are too, when a batch ended inside it. `lsn` is what the slot may be
 * confirmed up to once Core has committed this checkpoint; never further.
 */
export interface CdcPosition {
  slot: string;
  lsn: Lsn;
  partial?: { commitLsn: Lsn; emitted: number };
}

interface CdcCheckpointJson {
  kind: "postgres-cdc";
  slot: string;
  lsn: string;
  partial?: { commitLsn: string; emitted: number };
}

export function encodeCdcCheckpoint(position: CdcPosition): Buffer {
  const json: CdcCheckpointJson = {
    kind: "postgres-cdc",
    slot: position.slot,
    lsn: formatLsn(position.lsn),
    ...(position.partial
      ? { partial: { commitLsn: formatLsn(position.partial.commitLsn), emitted: position.partial.emitted } }
      : {}),
  };
  return Buffer.from(JSON.stringify(json), "utf8");
}

/** The position, or undefined when the bytes are not a cdc checkpoint. */
export function decodeCdcCheckpoint(bytes: Buffer): CdcPosition | undefined {
  try {
    const json = JSON.parse(bytes.toString("utf8")) as Partial<CdcCheckpointJson>;
    if (json.kind !== "postgres-cdc" || typeof json.slot !== "string" || typeof json.lsn !== "string")
      return undefined;
    return {
      slot: json.slot,
      lsn: parseLsn(json.lsn),
      ...(json.partial
        ? { partial: { commitLsn: parseLsn(json.partial.commitLsn), emitted: json.partial.emitted } }
        : {}),
    };
  } catch {
    return undefined;
  }
}

/** The checkpoint a stream resumes after; fails for good when it is not one of this slot. */
export function resumedCdcPosition(bytes: Buffer | undefined, slot: string): CdcPosition | undefined {
  if (bytes === undefined) return undefined;
  const position = decodeCdcCheckpoint(bytes);
  if (position?.slot !== slot)
    throw new PermanentError(
      `the checkpoint is not one flow-source-postgres wrote for replication slot ${slot}; reset it (flow checkpoints reset) to stream this slot from where it stands`,
    );
  return position;
}
