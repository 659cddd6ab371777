import { PermanentError } from "@flow/sdk";
import type { FileFingerprint } from "./file-fingerprint";

/**
 * The file source's checkpoint: where to resume (the byte just after the last line of a batch),
 * the line chain at that byte (so ids continue), and the fingerprint of the file it was read
 * from. Encoded as one line of JSON, readable in `flow checkpoints list` and by a service in any
 * language:
 *
 *   {"v":2,"offset":1234,"lines":"<64 hex>","device":"2049","inode":"131","size":5000,
 *    "head":"<32 hex>","tail":"<32 hex>"}
 */
export interface FileCheckpoint {
  offset: number;
  /** The line chain's value after the last line before `offset`, as hex. */
  lines: string;
  file: FileFingerprint;
}

/**
 * What a stream starts from: nothing, a checkpoint of this format, or a bare byte offset (the
 * decimal text the file source wrote before it fingerprinted files).
 */
export type SavedPosition =
  | { kind: "none" }
  | { kind: "offset"; offset: number }
  | { kind: "checkpoint"; checkpoint: FileCheckpoint };

export function encodeCheckpoint(
  checkpoint: FileCheckpoint,
  path: string,
): { position: Buffer; description: string } {
  const { offset, lines, file } = checkpoint;
  const json = JSON.stringify({ v: 2, offset, lines, ...file });
  return { position: Buffer.from(json, "utf8"), description: `byte ${offset} of ${path}` };
}

const OFFSET = /^(0|[1-9]\d{0,15})$/;
const HEX_32 = /^[0-9a-f]{32}$/;
const DECIMAL = /^\d{1,20}$/;

/** Throws on a position this source did not write, saying what it found (permanent: a restart gets it again). */
export function decodeCheckpoint(position: Buffer | undefined): SavedPosition {
  if (position === undefined || position.length === 0) return { kind: "none" };
  const text = position.toString("utf8");
  if (OFFSET.test(text)) return { kind: "offset", offset: Number(text) };
  const checkpoint = text.startsWith("{") ? parseCheckpoint(text) : undefined;
  if (checkpoint === undefined) {
    throw new PermanentError(
      `checkpoint "${text.slice(0, 60)}" is not a file source position; reset the stage's checkpoint (flow checkpoints reset <pipeline> <stage>) to read the file from its start`,
    );
  }
  return { kind: "checkpoint", checkpoint };
}

function parseCheckpoint(text: string): FileCheckpoint | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { v, offset, lines, device, inode, size, head, tail } = value;
  const valid =
    v === 2 &&
    Number.isSafeInteger(offset) &&
    (offset as number) >= 0 &&
    typeof lines === "string" &&
    /^[0-9a-f]{64}$/.test(lines) &&
    typeof device === "string" &&
    DECIMAL.test(device) &&
    typeof inode === "string" &&
    DECIMAL.test(inode) &&
    Number.isSafeInteger(size) &&
    (size as number) >= (offset as number) &&
    typeof head === "string" &&
    HEX_32.test(head) &&
    typeof tail === "string" &&
    HEX_32.test(tail);
  if (!valid) return undefined;
  return {
    offset: offset as number,
    lines: lines as string,
    file: { device, inode, size: size as number, head, tail } as FileFingerprint,
  };
}
