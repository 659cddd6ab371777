import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { cloudEventJsonLine, type FlowEvent } from "@flow/sdk";

export interface DeadLetter {
  stage: string;
  reason: string;
  event: FlowEvent;
}

/**
 * The default dead-letter destination: one JSON object per line with the pipeline, run, stage,
 * reason and the event as a CloudEvent (JSON payloads inline, others base64). Written before
 * the checkpoint that covers the event is committed, and synced to disk then.
 */
export class DeadLetterFile {
  private fd: number | undefined;
  private dirty = false;
  count = 0;

  constructor(
    readonly path: string,
    private readonly pipeline: string,
    private readonly runId: string,
  ) {}

  write(letters: readonly DeadLetter[]): void {
    if (letters.length === 0) return;
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, "a");
    }
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
    writeSync(this.fd, lines.join(""));
    this.count += letters.length;
    this.dirty = true;
  }

  /** Makes every written line durable; call before committing a checkpoint. */
  sync(): void {
    if (this.fd !== undefined && this.dirty) {
      fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  close(): void {
    this.sync();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
