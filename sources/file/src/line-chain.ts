import { hash } from "node:crypto";

/**
 * A running SHA-256 over the lines of one file: each non-blank line's content (without its line
 * ending) is hashed onto the value before it, which starts from the file's absolute path. A
 * payload line's id is made from it, so the id depends on the path and on every line up to and
 * including this one: the same line of the same file gets the same id however often and from
 * wherever it is reread (after a crash, after an append, from the start), and a different file at
 * the same path gets different ids from its first differing line on. It travels in the
 * checkpoint, so a resume continues it without rereading the file.
 */
export class LineChain {
  /** The value before the last `add`, so a batch can end just before the line last added. */
  private before: Buffer;

  private constructor(private value: Buffer) {
    this.before = value;
  }

  static start(absolutePath: string): LineChain {
    return new LineChain(hash("sha256", `flow-source-file\0${absolutePath}`, "buffer"));
  }

  /** The chain a checkpoint recorded, as hex (checked when the checkpoint was decoded). */
  static fromHex(text: string): LineChain {
    return new LineChain(Buffer.from(text, "hex"));
  }

  /** Adds a line and returns its id: 16 hex digits of the chain, then the line's byte offset. */
  add(content: Buffer, offset: number): string {
    const input = Buffer.allocUnsafe(this.value.length + content.length);
    this.value.copy(input, 0);
    content.copy(input, this.value.length);
    this.before = this.value;
    this.value = hash("sha256", input, "buffer");
    return `${this.value.toString("hex", 0, 8)}-${offset}`;
  }

  get hex(): string {
    return this.value.toString("hex");
  }

  /** The value before the last line was added, as hex. */
  get hexBeforeLast(): string {
    return this.before.toString("hex");
  }
}
