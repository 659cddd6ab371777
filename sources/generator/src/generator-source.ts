import { join } from "node:path";
import {
  BatchByteLimit,
  type ConfigIssue,
  createEvent,
  errorIssue,
  type FlowEvent,
  nowTimestamp,
  readPackageVersion,
  type SourceDefinition,
  timestampToRfc3339,
  warningIssue,
} from "@flow/sdk";
import { type GeneratorConfig, generatorConfigSchema } from "./generator-config";
import { pacedRanges } from "./paced-ranges";
import { DEFAULT_TEMPLATE, PayloadTemplate, TextTemplate } from "./payload-template";
import { decodeNextSequence, encodeNextSequence } from "./sequence-checkpoint";

/** The stage name in ids when Core gives none (a client that sends no stage id). */
const FALLBACK_STAGE = "generator";

export const generatorSource: SourceDefinition<GeneratorConfig> = {
  name: "flow-source-generator",
  version: readPackageVersion(join(__dirname, "..")),
  description: "Synthetic events at a chosen count, rate and payload shape; ids <stage>-<seq> resume exactly",
  configSchema: generatorConfigSchema,
  features: { checkpointing: true, ordering: "total" },

  validate(config) {
    const issues: ConfigIssue[] = [];
    const template = config.payload.template;
    if (config.payload.size !== undefined && template !== undefined && !isPlainObject(template)) {
      issues.push(
        errorIssue(
          "/payload/template",
          "with payload.size the template must be a JSON object (the padding is added to it)",
        ),
      );
    }
    if (isPlainObject(template) && config.payload.size !== undefined && "pad" in template) {
      issues.push(
        warningIssue("/payload/template", 'the template has a "pad" member; payload.size adds another one'),
      );
    }
    return issues;
  },

  async *read(config, context) {
    const stage = context.stageId || FALLBACK_STAGE;
    const payload = new PayloadTemplate(config.payload.template ?? DEFAULT_TEMPLATE, config.payload.size);
    const subject = config.subject === undefined ? undefined : new TextTemplate(config.subject);
    const formatsTime = payload.uses.has("time") || subject?.uses.has("time") === true;
    const ranges = pacedRanges({
      first: decodeNextSequence(context.checkpoint),
      last: config.count > 0 ? BigInt(config.count) : undefined,
      rate: config.rate,
      maxBatchSize: context.maxBatchSize > 0 ? context.maxBatchSize : config.batchSize,
      lingerMs: context.lingerMs,
      signal: context.signal,
    });
    const limit = new BatchByteLimit(context);
    // Every event of the stream shares its source, type and content type: the SDK builds one event
    // with them, and each event is a copy of it with its own id, subject, time and payload (a copy
    // costs far less than building an event from its parts, for every event).
    const common = createEvent({
      id: "",
      source: config.source,
      type: config.type,
      datacontenttype: "application/json",
    });
    const eventAt = (seq: bigint): FlowEvent => {
      const id = `${stage}-${seq}`;
      const time = nowTimestamp();
      const values = { seq, id, stage, time: formatsTime ? timestampToRfc3339(time) : "" };
      return {
        ...common,
        id,
        subject: subject === undefined ? common.subject : subject.render(values),
        time,
        // Each event its own map: nothing downstream of a copy should see another event's attributes.
        extensions: {},
        data: payload.render(values),
      };
    };
    // A range is cut into several batches when its events exceed maxBatchBytes; the event that
    // did not fit one batch (sequence `seq`) begins the next.
    for await (const range of ranges) {
      let seq = range.from;
      while (seq < range.to) {
        const events = limit.startBatch();
        seq += BigInt(events.length);
        for (; seq < range.to; seq++) {
          const event = eventAt(seq);
          if (!limit.admits(event)) break;
          events.push(event);
        }
        yield { events, checkpoint: encodeNextSequence(seq) };
      }
    }
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
