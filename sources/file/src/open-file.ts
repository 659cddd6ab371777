import { type FileHandle, open, stat } from "node:fs/promises";
import type { FileChange } from "./file-change";
import { decodeCheckpoint, type FileCheckpoint } from "./file-checkpoint";
import { FileFingerprints } from "./file-fingerprint";
import type { LineChain } from "./line-chain";
import { isBlankLine, type Line, LineReader } from "./line-reader";
import { resumePoint } from "./resume-point";

/** A line to make an event of, with the id the line chain gives it. */
export interface IdentifiedLine {
  line: Line;
  id: string;
}

/**
 * The file the source is reading: its handle, the line reader, the line chain and what a
 * checkpoint records about it. `changed` is how a replaced or truncated file is handled (it
 * throws to fail the stream).
 */
export class OpenFile {
  private readonly fingerprints: FileFingerprints;

  private constructor(
    private readonly handle: FileHandle,
    private readonly reader: LineReader,
    private readonly chain: LineChain,
  ) {
    this.fingerprints = new FileFingerprints(handle);
  }

  /** Opens `path` where `checkpoint` says (or at its start), checking it is the same file. */
  static async open(
    path: string,
    checkpoint: Buffer | undefined,
    follow: boolean,
    changed: (change: FileChange, offset: number) => void,
  ): Promise<OpenFile> {
    const handle = await open(path, "r");
    try {
      const { offset, chain } = await resumePoint(handle, path, decodeCheckpoint(checkpoint), changed);
      return new OpenFile(handle, new LineReader(handle, offset, follow), chain);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Where the next line starts. */
  get position(): number {
    return this.reader.position;
  }

  /** The next line that is not blank, or undefined at the (current) end of the file. */
  async next(): Promise<IdentifiedLine | undefined> {
    for (;;) {
      const line = await this.reader.next();
      if (line === undefined) return undefined;
      if (!isBlankLine(line)) return { line, id: this.chain.add(line.bytes, line.offset) };
    }
  }

  /** Resumes after every line read so far. */
  async checkpoint(): Promise<FileCheckpoint> {
    const offset = this.reader.position;
    return { offset, lines: this.chain.hex, file: await this.fingerprints.at(offset) };
  }

  /**
   * Resumes at `last`, the line `next` returned last, so that it is read again: the batch that
   * ends with this checkpoint could not take that line's event.
   */
  async checkpointBefore(last: Line): Promise<FileCheckpoint> {
    const offset = last.offset;
    return { offset, lines: this.chain.hexBeforeLast, file: await this.fingerprints.at(offset) };
  }

  /**
   * While following, at the end of the file: whether it was truncated below what was read, or the
   * path now names another file (rotated). A path that names nothing for the moment (between a
   * rotation's rename and the new file's creation) is no change yet.
   */
  async changeWhileFollowed(path: string): Promise<FileChange | undefined> {
    const opened = await this.handle.stat({ bigint: true });
    if (opened.size < BigInt(this.reader.position)) {
      return {
        kind: "truncated",
        detail: `it is ${opened.size} bytes, ${this.reader.position} were read`,
      };
    }
    const named = await stat(path, { bigint: true }).catch(() => undefined);
    if (named === undefined || (named.dev === opened.dev && named.ino === opened.ino)) return undefined;
    return {
      kind: "replaced",
      detail: `the path names another file now (device ${named.dev}, inode ${named.ino}; the one read was device ${opened.dev}, inode ${opened.ino})`,
    };
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
