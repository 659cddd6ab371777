import type { PipelineStage } from "../config/pipeline-model";
import { oversizedEventReason, type StageByteLimit } from "../negotiation/stage-byte-limit";
import type { ConsumerLink } from "./consumer-link";
import type { ProcessorLink } from "./processor-link";
import type { BatchLimit } from "./raw-batch";
import type { SourceNode } from "./source-node";
import { newCounters, type StageCounters } from "./stage-counters";

/**
 * Everything the engine knows about one stage of a run: its plan, what it has done
 * (counters), the largest batch it takes, the stages its output goes to, and its stream - a link
 * for a processor or a consumer, a source node for a source.
 */
export class StageRecord {
  readonly counters: StageCounters;
  /** The stages that read this one's output, in file order (filled once every record exists). */
  outputs: StageRecord[] = [];
  link: ProcessorLink | ConsumerLink | undefined;
  source: SourceNode | undefined;
  /** The largest batch the stage takes: its batch.maxSize and its negotiated byte limit. */
  limit: BatchLimit;
  private byteLimit: StageByteLimit | undefined;

  constructor(readonly stage: PipelineStage) {
    this.counters = newCounters(stage.id, stage.family);
    this.limit = { maxEvents: stage.settings.batch.maxSize, maxBytes: stage.settings.batch.maxBytes };
  }

  get id(): string {
    return this.stage.id;
  }

  /** Records what negotiation found the stage's service takes. */
  negotiated(limit: StageByteLimit | undefined): void {
    this.byteLimit = limit;
    if (limit) this.limit = { maxEvents: this.stage.settings.batch.maxSize, maxBytes: limit.batchBytes };
  }

  /** The dead-letter reason for an event of `bytes` no batch of this stage can carry. */
  oversizedReason(bytes: number): string {
    const limit = this.byteLimit ?? {
      messageBytes: this.limit.maxBytes,
      messageFrom: "core" as const,
      batchBytes: this.limit.maxBytes,
      boundBy: "batch.maxBytes" as const,
    };
    return oversizedEventReason(this.stage, bytes, limit);
  }
}
