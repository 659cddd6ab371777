import type { FileHandle } from "node:fs/promises";

/** One line of the file, without its line ending, and where it sits. */
export interface Line {
  bytes: Buffer;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte offset just after the line and its newline: where the next line starts. */
  next: number;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Reads a file line by line from a byte offset, keeping exact byte positions (a checkpoint is an
 * offset, so positions must not drift on multi-byte characters or CRLF line endings).
 *
 * At the end of the file, a last line without a newline is a line when the file is complete, and
 * an unfinished write when the file is being followed: then it is left for the next attempt.
 */
export class LineReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** File offset of buffer[0]. */
  private bufferOffset: number;

  constructor(
    private readonly handle: FileHandle,
    offset: number,
    private readonly follow: boolean,
  ) {
    this.bufferOffset = offset;
  }

  /** Where the next line starts. */
  get position(): number {
    return this.bufferOffset;
  }

  /** The next line, or undefined at the (current) end of the file. */
  async next(): Promise<Line | undefined> {
    let searchFrom = 0;
    for (;;) {
      const newline = this.buffer.indexOf(0x0a, searchFrom);
      if (newline >= 0) return this.take(newline, newline + 1);
      searchFrom = this.buffer.length;
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await this.handle.read(
        chunk,
        0,
        CHUNK_BYTES,
        this.bufferOffset + this.buffer.length,
      );
      if (bytesRead === 0) {
        if (this.buffer.length === 0 || this.follow) return undefined;
        return this.take(this.buffer.length, this.buffer.length);
      }
      this.buffer =
        this.buffer.length === 0
          ? chunk.subarray(0, bytesRead)
          : Buffer.concat([this.buffer, chunk.subarray(0, bytesRead)]);
    }
  }

  private take(end: number, consumed: number): Line {
    const lineEnd = end > 0 && this.buffer[end - 1] === 0x0d ? end - 1 : end;
    const line: Line = {
      bytes: this.buffer.subarray(0, lineEnd),
      offset: this.bufferOffset,
      next: this.bufferOffset + consumed,
    };
    this.buffer = this.buffer.subarray(consumed);
    this.bufferOffset += consumed;
    return line;
  }
}

/** Blank lines separate nothing in JSON Lines: they are not events and not errors. */
export function isBlankLine(line: Line): boolean {
  return line.bytes.every((byte) => byte === 0x20 || byte === 0x09);
}
