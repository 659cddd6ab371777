import { type FileHandle, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * A file that lines are appended to. Every append is one write in append mode, so writers sharing
 * the file do not interleave inside a line. A line torn by a crash or a failed write is closed
 * with a newline before the next append, so the lines after it stay readable.
 */
export class JsonLinesFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private needsNewline: boolean,
  ) {}

  static async open(path: string, options: { createDirectories: boolean }): Promise<JsonLinesFile> {
    if (options.createDirectories) await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, "a+");
    try {
      return new JsonLinesFile(path, handle, await endsInsideALine(handle));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async append(text: string): Promise<void> {
    if (text.length === 0) return;
    const bytes = Buffer.from(this.needsNewline ? `\n${text}` : text, "utf8");
    this.needsNewline = true;
    let written = 0;
    while (written < bytes.length) {
      const result = await this.handle.write(bytes, written, bytes.length - written);
      written += result.bytesWritten;
    }
    this.needsNewline = !text.endsWith("\n");
  }

  /** Makes everything appended so far durable on disk. */
  sync(): Promise<void> {
    return this.handle.sync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

async function endsInsideALine(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
