import type { PipelineStage } from "../config/pipeline-model";
import { oversizedEventReason, type StageByteLimit, stageByteLimit } from "../negotiation/stage-byte-limit";
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
  /** Until negotiation says otherwise, what a service that announces nothing is assumed to take. */
  private byteLimit: StageByteLimit;

  constructor(readonly stage: PipelineStage) {
    this.counters = newCounters(stage.id, stage.family);
    this.byteLimit = stageByteLimit(stage, undefined);
    this.limit = this.limitOf(this.byteLimit);
  }

  get id(): string {
    return this.stage.id;
  }

  /** Records what negotiation found the stage's service takes. */
  negotiated(limit: StageByteLimit | undefined): void {
    if (!limit) return;
    this.byteLimit = limit;
    this.limit = this.limitOf(limit);
  }

  /** The dead-letter reason for an event of `bytes` no batch of this stage can carry. */
  oversizedReason(bytes: number): string {
    return oversizedEventReason(this.stage, bytes, this.byteLimit);
  }

  private limitOf(limit: StageByteLimit): BatchLimit {
    return { maxEvents: this.stage.settings.batch.maxSize, maxBytes: limit.batchBytes };
  }
}
