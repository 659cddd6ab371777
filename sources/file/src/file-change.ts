import { FINGERPRINT_BYTES, type FileFingerprint } from "./file-fingerprint";

/** How the file at the path differs from the one a checkpoint was taken on. */
export interface FileChange {
  kind: "replaced" | "truncated";
  /** What was seen, for the log line or the error. */
  detail: string;
}

/**
 * Compares the checkpoint's fingerprint with the file's now (taken at the checkpoint's offset).
 * Another device or inode, or different bytes before the offset, is a replacement; the same file
 * grown shorter is a truncation; the same file, unchanged up to the offset and at least as long
 * as it was, is the same file (at most appended to): undefined.
 */
export function fileChange(
  offset: number,
  saved: FileFingerprint,
  now: FileFingerprint,
): FileChange | undefined {
  if (saved.device !== now.device || saved.inode !== now.inode) {
    return {
      kind: "replaced",
      detail: `it is another file now (device ${now.device}, inode ${now.inode}; the checkpoint's was device ${saved.device}, inode ${saved.inode})`,
    };
  }
  if (now.size < offset) {
    return { kind: "truncated", detail: `it is ${now.size} bytes, the checkpoint is at byte ${offset}` };
  }
  if (now.size < saved.size) {
    return { kind: "truncated", detail: `it shrank from ${saved.size} to ${now.size} bytes` };
  }
  if (saved.head !== now.head) {
    return {
      kind: "replaced",
      detail: `its first ${Math.min(FINGERPRINT_BYTES, offset)} bytes are not the ones read before`,
    };
  }
  if (saved.tail !== now.tail) {
    return {
      kind: "replaced",
      detail: `the ${Math.min(FINGERPRINT_BYTES, offset)} bytes before the checkpoint's byte ${offset} are not the ones read before`,
    };
  }
  return undefined;
}
