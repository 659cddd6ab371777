import { pathToFileURL } from "node:url";
import { cloudEventFromJson, createEvent, type FlowEvent, nowTimestamp } from "@flow/sdk";
import type { FileSourceConfig } from "./file-source-config";
import type { Line } from "./line-reader";

/** The type of the event that carries a line which could not be read as an event. */
export const INVALID_LINE_TYPE = "flow.file.invalid-line";

export type LineResult = { event: FlowEvent } | { invalid: string };

/**
 * Turns the lines of one file into events. A payload line's id is given by the caller (from the
 * line chain: the same line of the same file gets the same id on every run, so a replay after a
 * resume is recognised by an idempotent sink); a CloudEvent line keeps its own.
 */
export class LineEvents {
  private readonly source: string;

  constructor(
    private readonly config: FileSourceConfig,
    absolutePath: string,
  ) {
    this.source = config.source ?? pathToFileURL(absolutePath).href;
  }

  fromLine(line: Line, id: string): LineResult {
    const text = line.bytes.toString("utf8");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { invalid: `not JSON: ${(error as Error).message}` };
    }
    if (this.config.format === "cloudevents") {
      try {
        return { event: cloudEventFromJson(value, text) };
      } catch (error) {
        return { invalid: `not a CloudEvent: ${(error as Error).message}` };
      }
    }
    return {
      event: createEvent({
        id,
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
  invalidLineEvent(line: Line, id: string, reason: string): FlowEvent {
    return createEvent({
      id,
      source: this.source,
      type: INVALID_LINE_TYPE,
      time: nowTimestamp(),
      datacontenttype: "text/plain; charset=utf-8",
      data: Buffer.from(line.bytes),
      extensions: { flowerror: { value: { $case: "stringValue", value: reason } } },
    });
  }
}
