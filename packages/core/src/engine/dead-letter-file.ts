import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { UserError } from "@flow/errors";
import { cloudEventJsonLine, type FlowEvent } from "@flow/sdk";

export interface DeadLetter {
  stage: string;
  reason: string;
  event: FlowEvent;
}

/**
 * The default dead-letter destination: one JSON object per line with the pipeline, run, stage,
 * reason and the event as a CloudEvent (JSON payloads inline, others base64). Written before
 * the checkpoint that covers the event is committed, and synced to disk then. A write or sync that
 * fails (a full disk) throws a UserError naming the file and leaves no torn line behind: the file
 * is cut back to its last complete line, so a later run appends cleanly.
 */
export class DeadLetterFile {
  private fd: number | undefined;
  private dirty = false;
  /** Bytes of complete lines in the file. */
  private size = 0;
  count = 0;

  constructor(
    readonly path: string,
    private readonly pipeline: string,
    private readonly runId: string,
  ) {}

  write(letters: readonly DeadLetter[]): void {
    if (letters.length === 0) return;
    const fd = this.open();
    const at = new Date().toISOString();
    // The event is spliced in as CloudEvents JSON text, so a JSON payload keeps its exact digits.
    const lines = letters.map((letter) => {
      const head = JSON.stringify({
        at,
        pipeline: this.pipeline,
        runId: this.runId,
        stage: letter.stage,
        reason: letter.reason,
      });
      return `${head.slice(0, -1)},"event":${cloudEventJsonLine(letter.event).trimEnd()}}\n`;
    });
    const text = Buffer.from(lines.join(""));
    try {
      let written = 0;
      while (written < text.length) written += writeSync(fd, text, written);
    } catch (error) {
      this.cutBack(fd);
      throw this.failure("write", error);
    }
    this.size += text.length;
    this.count += letters.length;
    this.dirty = true;
  }

  /** Makes every written line durable; call before committing a checkpoint. */
  sync(): void {
    if (this.fd !== undefined && this.dirty) {
      try {
        fsyncSync(this.fd);
      } catch (error) {
        throw this.failure("sync", error);
      }
      this.dirty = false;
    }
  }

  close(): void {
    try {
      this.sync();
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private open(): number {
    if (this.fd === undefined) {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        this.fd = openSync(this.path, "a");
      } catch (error) {
        throw this.failure("open", error);
      }
      this.size = fstatSync(this.fd).size;
    }
    return this.fd;
  }

  /** Removes what a failed write left of its lines (best effort: the disk may refuse that too). */
  private cutBack(fd: number): void {
    try {
      ftruncateSync(fd, this.size);
    } catch {
      // The next open appends after whatever is there; `flow dead-letters list` reports a torn line.
    }
  }

  private failure(action: "open" | "write" | "sync", error: unknown): UserError {
    const { code, message } = error as NodeJS.ErrnoException;
    const cause = code === "ENOSPC" ? "the disk is full (ENOSPC)" : message;
    return new UserError(`cannot ${action} the dead-letter file ${this.path}: ${cause}`, {
      hint: "the batches holding these events stay uncommitted, so nothing is lost: free space (or set deadLetters.path elsewhere) and run the pipeline again; it resumes from its last committed checkpoint",
      exitCode: 1,
    });
  }
}
