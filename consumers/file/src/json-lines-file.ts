import { type FileHandle, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";

/** An append failed and could not be cut back off: the file may end inside a line. */
export class TornAppendError extends Error {
  constructor(message: string, options: { cause: Error }) {
    super(message, options);
    this.name = "TornAppendError";
  }
}

/**
 * A file that lines are appended to, each append durable before it returns. Every append is one
 * write in append mode, so writers sharing the file do not interleave inside a line. A line torn
 * by a crash is closed with a newline before the next append, so the lines after it stay readable;
 * an append that fails is cut back off, so a retry leaves neither a torn line nor doubled ones.
 */
export class JsonLinesFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private needsNewline: boolean,
  ) {}

  static async open(path: string, options: { createDirectories: boolean }): Promise<JsonLinesFile> {
    const folder = dirname(path);
    const firstCreated = options.createDirectories ? await mkdir(folder, { recursive: true }) : undefined;
    const handle = await open(path, "a+");
    try {
      const file = new JsonLinesFile(path, handle, await endsInsideALine(handle));
      // A new file (or folder) survives a power cut only once the folder holding its name is synced.
      // Doing it for an existing file too costs one sync per stream and needs no "did it exist" race.
      await syncFolders(folder, firstCreated);
      return file;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Appends `text` (whole lines) and makes it durable with one fdatasync. When the write or the sync
   * fails (ENOSPC, EIO...), the file is truncated back to the length it had before, so nothing of
   * the failed append stays; if even that fails, it throws a TornAppendError and the next append
   * starts on a new line.
   */
  async appendDurably(text: string): Promise<void> {
    if (text.length === 0) return;
    const { size: before } = await this.handle.stat();
    const bytes = Buffer.from(this.needsNewline ? `\n${text}` : text, "utf8");
    try {
      let written = 0;
      while (written < bytes.length) {
        const result = await this.handle.write(bytes, written, bytes.length - written);
        written += result.bytesWritten;
      }
      await this.handle.datasync();
    } catch (error) {
      throw await this.cutBack(before, error as Error);
    }
    this.needsNewline = !text.endsWith("\n");
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** Truncates a failed append away; returns the error to report. */
  private async cutBack(length: number, cause: Error): Promise<Error> {
    try {
      await this.handle.truncate(length);
      await this.handle.datasync();
      return cause;
    } catch (truncateError) {
      // The file may now end inside a line: close it before the next append.
      this.needsNewline = true;
      return new TornAppendError(
        `${cause.message}; cutting the file back to its last complete line (${length} bytes) failed too: ${(truncateError as Error).message}`,
        { cause },
      );
    }
  }
}

async function endsInsideALine(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

/** Syncs `folder` and, when mkdir created folders, each parent up to the one holding the first created. */
async function syncFolders(folder: string, firstCreated: string | undefined): Promise<void> {
  let current = folder;
  for (;;) {
    const handle = await open(current, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (firstCreated === undefined || current === dirname(firstCreated) || current === dirname(current))
      return;
    current = dirname(current);
  }
}
