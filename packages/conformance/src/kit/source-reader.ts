import type { Checkpoint } from "../gen/checkpoint/v1/checkpoint";
import type { ConformContext } from "./conform-context";
import type { EventMajor, KitEvent } from "./event-majors";
import { familyClient } from "./family-clients";
import type { ReadRequest, ReadResponse, SourceBatch, StartPeers } from "./stream-messages";
import { StreamRecorder } from "./stream-recorder";

export interface ReadSettings {
  checkpoint?: Checkpoint;
  initialCredits: number;
  maxBatchSize: number;
  maxBatchBytes: number;
  /** The stages the source is to push its batches to, on the direct data path (v2.1). */
  peers?: StartPeers["peers"];
}

/**
 * Core's side of a Read stream at the context's major: starts it, grants one credit per batch
 * received (so `initialCredits` batches stay outstanding), sends commit notices when told, and
 * knows the events by the conformance keys (`k<RUN>-<n>`) in their data, id or subject.
 */
export class SourceReader {
  readonly recorder: StreamRecorder<ReadResponse>;
  private readonly events: EventMajor;

  constructor(
    context: ConformContext,
    private readonly keyPattern: RegExp,
    readonly settings: ReadSettings,
  ) {
    this.events = context.events;
    const client = familyClient("source", context.instance.target, context.major);
    this.recorder = new StreamRecorder<ReadResponse>(client.read() as never);
    this.recorder.call.on("close", () => client.close());
    this.recorder.call.on("data", (response: ReadResponse) => {
      if (response.response?.$case !== "batch") return;
      this.recorder.call.write({ request: { $case: "credit", value: { batches: 1 } } } satisfies ReadRequest);
    });
    this.recorder.call.write({
      request: {
        $case: "start",
        value: {
          configJson: JSON.stringify(context.config.config),
          checkpoint: settings.checkpoint,
          initialCredits: settings.initialCredits,
          maxBatchSize: settings.maxBatchSize,
          lingerMs: 20,
          stageId: "conform",
          maxBatchBytes: BigInt(settings.maxBatchBytes),
          ...(settings.peers ? { peers: settings.peers } : {}),
        },
      },
    } satisfies ReadRequest);
  }

  get batches(): SourceBatch[] {
    return this.recorder.received.flatMap((response) =>
      response.response?.$case === "batch" ? [response.response.value] : [],
    );
  }

  get exhausted(): bigint | undefined {
    const found = this.recorder.received.find((response) => response.response?.$case === "exhausted");
    return found?.response?.$case === "exhausted" ? found.response.value.lastSequence : undefined;
  }

  /** The conformance key number of an event, if it carries one. */
  keyOf(event: KitEvent): number | undefined {
    for (const text of this.events.keyTexts(event)) {
      const match = this.keyPattern.exec(text);
      if (match) return Number(match[1]);
    }
    return undefined;
  }

  keysOf(batches: SourceBatch[]): number[] {
    return this.keysOfEvents(batches.flatMap((batch) => batch.batch?.events ?? []));
  }

  keysOfEvents(events: KitEvent[]): number[] {
    return events.flatMap((event) => {
      const key = this.keyOf(event);
      return key === undefined ? [] : [key];
    });
  }

  /** Distinct keys seen so far. */
  distinctKeys(): Set<number> {
    return new Set(this.keysOf(this.batches));
  }

  /** Waits until `count` batches arrived, the source is exhausted, the stream ended, or the time is up. */
  untilBatches(count: number, timeoutMs: number): Promise<boolean> {
    return this.recorder.until(() => this.batches.length >= count || this.exhausted !== undefined, timeoutMs);
  }

  /** Sends a commit notice for `batch` (its sequence and checkpoint); resolves once it is on the wire. */
  commit(batch: SourceBatch): Promise<void> {
    return this.recorder.write({
      request: { $case: "commit", value: { sequence: batch.sequence, checkpoint: batch.checkpoint } },
    } satisfies ReadRequest);
  }

  /** The encoded size of a batch's events, in the stream's major (what max_batch_bytes bounds). */
  batchBytes(batch: SourceBatch): number {
    return this.events.batchBytes(batch.batch?.events ?? []);
  }
}

/** The keys the conformance kit feeds or configures for a scenario: `k<RUN>-1` ... `k<RUN>-<count>`. */
export function conformKeys(run: string, count: number): string[] {
  return Array.from({ length: count }, (_unused, index) => `k${run}-${index + 1}`);
}

export function keyPatternFor(run: string): RegExp {
  return new RegExp(`k${run}-(\\d+)`);
}
