import { hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

/** How many bytes each of the two content fingerprints covers. */
export const FINGERPRINT_BYTES = 1024;

/**
 * What identifies the file a checkpoint belongs to: its device and inode, its size when the
 * checkpoint was taken, and SHA-256 fingerprints (32 hex digits) of its first KiB and of the KiB
 * just before the checkpoint's offset (each shorter when the offset is smaller). Both ranges lie
 * before the offset, so appending to the file changes neither.
 */
export interface FileFingerprint {
  device: string;
  inode: string;
  size: number;
  head: string;
  tail: string;
}

/** Fingerprints one open file; its first KiB is hashed once, the rest per checkpoint. */
export class FileFingerprints {
  private fullHead: string | undefined;

  constructor(private readonly handle: FileHandle) {}

  async at(offset: number): Promise<FileFingerprint> {
    const stats = await this.handle.stat({ bigint: true });
    const headBytes = Math.min(FINGERPRINT_BYTES, offset);
    let head = headBytes === FINGERPRINT_BYTES ? this.fullHead : undefined;
    if (head === undefined) {
      head = await this.hashRange(0, headBytes);
      if (headBytes === FINGERPRINT_BYTES) this.fullHead = head;
    }
    const tailBytes = Math.min(FINGERPRINT_BYTES, offset);
    return {
      device: String(stats.dev),
      inode: String(stats.ino),
      size: Number(stats.size),
      head,
      tail: await this.hashRange(offset - tailBytes, tailBytes),
    };
  }

  private async hashRange(position: number, length: number): Promise<string> {
    const bytes = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(bytes, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return hash("sha256", bytes.subarray(0, filled), "hex").slice(0, 32);
  }
}
