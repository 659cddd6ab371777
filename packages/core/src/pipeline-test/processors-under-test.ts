import type { UserError } from "@flow/errors";
import type { FlowEvent } from "@flow/sdk";
import type { Logger } from "pino";
import type { Pipeline, PipelineStage } from "../config/pipeline-model";
import { convertRawBatch } from "../engine/batch-conversion";
import type { Origin } from "../engine/delivery";
import { cutRawBatch, decodeEvents, encodeEvents, type RawBatch } from "../engine/raw-batch";
import { closeStageLinks, openStageLinks, overdueCheckIntervalMs } from "../engine/stage-links";
import { StageRecord } from "../engine/stage-record";
import { StageServices } from "../engine/stage-services";
import type { NegotiationProblem } from "../negotiation/negotiate";
import type { StageByteLimit } from "../negotiation/stage-byte-limit";
import type { StageOutput } from "./expectations";
import { eventAsJson } from "./test-event";

/**
 * A pipeline's processors, started as `flow run` starts them (StageServices: spawned, handshaken,
 * negotiated with validate-only configs) and fed through the engine's own links, with test events
 * in place of the sources and the consumers replaced by a record of what they would be sent.
 * Services stay up between feeds (one per test); each feed opens fresh streams.
 */
export class ProcessorsUnderTest {
  private readonly services: StageServices;
  private readonly processors: PipelineStage[];
  private limits = new Map<string, StageByteLimit>();

  constructor(
    private readonly pipeline: Pipeline,
    private readonly logger: Logger,
    describeProblem?: (problem: NegotiationProblem) => UserError,
  ) {
    this.processors = pipeline.stages.filter((stage) => stage.family === "processor");
    this.services = new StageServices({
      plan: { ...pipeline, stages: this.processors },
      logger,
      describeProblem,
    });
  }

  /** Starts and negotiates every processor; throws every problem at once (as `flow run` does). */
  async start(): Promise<void> {
    await this.services.start();
    try {
      this.limits = (await this.services.negotiate()).limits;
    } catch (error) {
      await this.services.stop();
      throw error;
    }
  }

  /**
   * Sends each source's events (in batches of the source's `batch.maxSize`) through the
   * processors downstream of it and resolves, once every batch is answered, with what each stage
   * put out: a source its events, a processor what it answered, a consumer what it would be sent.
   */
  async feed(inputs: ReadonlyMap<string, FlowEvent[]>): Promise<Map<string, StageOutput>> {
    const outputs = new Map<string, StageOutput>(
      this.pipeline.stages.map((stage) => [stage.id, { events: [], deadLetters: [] }]),
    );
    const output = (id: string) => outputs.get(id) as StageOutput;
    const records = new Map(
      this.processors.map((stage) => {
        const record = new StageRecord(stage);
        record.negotiated(this.limits.get(stage.id));
        return [stage.id, record];
      }),
    );
    let outstanding = 0;
    let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const answered = () => {
      outstanding -= 1;
      if (outstanding === 0) settle?.resolve();
    };
    const letter = (stage: string, reason: string, events: FlowEvent[]) => {
      for (const event of events) output(stage).deadLetters.push({ reason, event: eventAsJson(event) });
    };
    const deliver = (from: PipelineStage, origins: Origin[], batch: RawBatch) => {
      output(from.id).events.push(...decodeEvents(batch).map(eventAsJson));
      if (batch.count === 0) return;
      for (const id of from.outputs) {
        const record = records.get(id);
        if (!record) {
          output(id).events.push(...decodeEvents(batch).map(eventAsJson));
          continue;
        }
        // In the major the processor speaks, as the Router converts it in a run.
        const { batch: inMajor, refused } = convertRawBatch(batch, record.major);
        for (const { event, reason } of refused) letter(id, reason, [event]);
        if (inMajor.count === 0) continue;
        const cut = cutRawBatch(inMajor, record.limit);
        for (const part of cut.parts) {
          outstanding += 1;
          record.link?.send(origins, part);
        }
        for (const event of cut.oversized)
          letter(id, record.oversizedReason(event.bytes), decodeEvents(event.batch));
      }
    };
    const links = openStageLinks(
      records.values(),
      { services: this.services, logger: this.logger },
      {
        processed: (record, origins, batch, letters) => {
          for (const { event, reason } of letters) letter(record.id, reason, [event]);
          deliver(record.stage, origins, batch);
          answered();
        },
        written: () => undefined,
        giveUp: (record, delivery, reason) => {
          letter(record.id, reason, decodeEvents(delivery.batch));
          answered();
        },
        fatal: (error) => settle?.reject(error),
      },
    );
    const overdue = setInterval(() => {
      for (const link of links) link.abandonIfOverdue();
    }, overdueCheckIntervalMs(links));
    try {
      // Held at one until every source's events are sent, so the first answer cannot end the feed.
      outstanding += 1;
      let sequence = 0n;
      for (const source of this.pipeline.stages.filter((stage) => stage.family === "source")) {
        const events = inputs.get(source.id) ?? [];
        const size = source.settings.batch.maxSize;
        for (let start = 0; start < events.length; start += size) {
          sequence += 1n;
          deliver(source, [{ source: source.id, sequence }], encodeEvents(events.slice(start, start + size)));
        }
      }
      answered();
      await done;
    } finally {
      clearInterval(overdue);
      await closeStageLinks(links);
    }
    return outputs;
  }

  async stop(): Promise<void> {
    await this.services.stop();
  }
}
