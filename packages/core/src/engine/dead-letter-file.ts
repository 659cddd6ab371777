import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { type FlowEvent, timestampToRfc3339 } from "@flow/sdk";

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
    const lines = letters.map((letter) =>
      JSON.stringify({
        at,
        pipeline: this.pipeline,
        runId: this.runId,
        stage: letter.stage,
        reason: letter.reason,
        event: toCloudEvent(letter.event),
      }),
    );
    writeSync(this.fd, `${lines.join("\n")}\n`);
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

/** An event in the CloudEvents JSON format. */
export function toCloudEvent(event: FlowEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    specversion: event.specversion || "1.0",
    id: event.id,
    source: event.source,
    type: event.type,
  };
  if (event.subject) out.subject = event.subject;
  if (event.time) out.time = timestampToRfc3339(event.time);
  if (event.datacontenttype) out.datacontenttype = event.datacontenttype;
  if (event.dataschema) out.dataschema = event.dataschema;
  for (const [name, attribute] of Object.entries(event.extensions ?? {})) {
    const value = attribute.value;
    if (!value) continue;
    out[name] =
      value.$case === "binaryValue"
        ? Buffer.from(value.value).toString("base64")
        : value.$case === "timestampValue"
          ? timestampToRfc3339(value.value)
          : value.value;
  }
  const data = Buffer.from(event.data ?? Buffer.alloc(0));
  if (data.length > 0) {
    const text = data.toString("utf8");
    try {
      out.data = /json/.test(event.datacontenttype || "application/json") ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: fall through to base64
    }
    if (out.data === undefined) out.data_base64 = data.toString("base64");
  }
  return out;
}
