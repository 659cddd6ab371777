import type { EventMajor } from "@flow/sdk/internal";
import type { NegotiatedContract } from "../clients/family-contracts";
import type { PipelineStage } from "../config/pipeline-model";
import { oversizedEventReason, type StageByteLimit, stageByteLimit } from "../negotiation/stage-byte-limit";
import type { ConsumerLink } from "./consumer-link";
import type { ProcessorLink } from "./processor-link";
import { type BatchLimit, eventMajorOf } from "./raw-batch";
import type { SourceNode } from "./source-node";
import { newCounters, type StageCounters } from "./stage-counters";

/**
 * Everything the engine knows about one stage of a run: its plan, what it has done
 * (counters), the largest batch it takes, the stages its output goes to, its stream - a link
 * for a processor or a consumer, a source node for a source - and the contract that stream speaks.
 */
export class StageRecord {
  readonly counters: StageCounters;
  /** The stages that read this one's output, in file order (filled once every record exists). */
  outputs: StageRecord[] = [];
  private currentLink: ProcessorLink | ConsumerLink | undefined;
  private currentSource: SourceNode | undefined;
  /** The largest batch the stage takes: its batch.maxSize and its negotiated byte limit. */
  limit: BatchLimit;
  /** Until negotiation says otherwise, what a service that announces nothing is assumed to take. */
  private byteLimit: StageByteLimit;
  /**
   * The stage's service said, in Describe, that it takes part in the direct data path
   * (features.direct_path); whether an edge is direct is decided from both ends (direct-edges.ts).
   */
  directPathCapable = false;

  constructor(readonly stage: PipelineStage) {
    this.counters = newCounters(stage.id, stage.family);
    this.byteLimit = stageByteLimit(stage, undefined);
    this.limit = this.limitOf(this.byteLimit);
  }

  get id(): string {
    return this.stage.id;
  }

  get link(): ProcessorLink | ConsumerLink | undefined {
    return this.currentLink;
  }

  /** The stage's stream (a processor's or a consumer's); its contract's major goes into the counters. */
  set link(link: ProcessorLink | ConsumerLink | undefined) {
    this.currentLink = link;
    this.countContract();
  }

  get source(): SourceNode | undefined {
    return this.currentSource;
  }

  /** The stage's stream (a source's); its contract's major goes into the counters. */
  set source(source: SourceNode | undefined) {
    this.currentSource = source;
    this.countContract();
  }

  /** The contract negotiated with the stage's service, which its stream speaks; undefined before. */
  get contract(): NegotiatedContract | undefined {
    return this.currentLink?.contract ?? this.currentSource?.link.contract;
  }

  /** The event major of the batches the stage takes and gives (v1 until negotiated). */
  get major(): EventMajor {
    return eventMajorOf(this.contract?.major ?? 1);
  }

  /** The run's stats name the major each stage spoke (`flow status`). */
  private countContract(): void {
    const major = this.contract?.major;
    if (major === undefined) delete this.counters.contractMajor;
    else this.counters.contractMajor = major;
  }

  /** Records what negotiation found the stage's service takes, and whether it does the direct data path. */
  negotiated(limit: StageByteLimit | undefined, directPathCapable = false): void {
    this.directPathCapable = directPathCapable;
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
