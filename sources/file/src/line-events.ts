import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { createEvent, type FlowEvent, nowTimestamp } from "@flow/sdk";
import { cloudEventFromJson } from "./cloudevent-json";
import type { FileSourceConfig } from "./file-source-config";
import type { Line } from "./line-reader";

/** The type of the event that carries a line which could not be read as an event. */
export const INVALID_LINE_TYPE = "flow.file.invalid-line";

export type LineResult = { event: FlowEvent } | { invalid: string };

/**
 * Turns the lines of one file into events. A payload line's id is `<path hash>-<byte offset>`: the
 * same line of the same file gets the same id on every run, so a replay after a resume is
 * recognised by an idempotent sink.
 */
export class LineEvents {
  private readonly idPrefix: string;
  private readonly source: string;

  constructor(
    private readonly config: FileSourceConfig,
    absolutePath: string,
  ) {
    this.idPrefix = createHash("sha256").update(absolutePath).digest("hex").slice(0, 16);
    this.source = config.source ?? pathToFileURL(absolutePath).href;
  }

  fromLine(line: Line): LineResult {
    let value: unknown;
    try {
      value = JSON.parse(line.bytes.toString("utf8"));
    } catch (error) {
      return { invalid: `not JSON: ${(error as Error).message}` };
    }
    if (this.config.format === "cloudevents") {
      try {
        return { event: cloudEventFromJson(value) };
      } catch (error) {
        return { invalid: `not a CloudEvent: ${(error as Error).message}` };
      }
    }
    return {
      event: createEvent({
        id: this.idOf(line),
        source: this.source,
        type: this.config.type,
        time: nowTimestamp(),
        datacontenttype: "application/json",
        // A copy: the line is a view of the reader's chunk, which must not be kept alive by events.
        data: Buffer.from(line.bytes),
      }),
    };
  }

  /** The event that carries an invalid line downstream, with the reason in the `flowerror` extension. */
  invalidLineEvent(line: Line, reason: string): FlowEvent {
    return createEvent({
      id: this.idOf(line),
      source: this.source,
      type: INVALID_LINE_TYPE,
      time: nowTimestamp(),
      datacontenttype: "text/plain; charset=utf-8",
      data: Buffer.from(line.bytes),
      extensions: { flowerror: { value: { $case: "stringValue", value: reason } } },
    });
  }

  private idOf(line: Line): string {
    return `${this.idPrefix}-${line.offset}`;
  }
}
