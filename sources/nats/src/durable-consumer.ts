import { PermanentError } from "@flow/sdk";
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  type JetStreamManager,
  nanos,
} from "nats";
import type { NatsSourceConfig } from "./nats-source-config";

/** JetStream's error code for "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

export interface DurableSettings {
  stream: string;
  name: string;
  filterSubject: string | undefined;
  maxAckPending: number;
  ackWaitMs: number;
}

export function isConsumerNotFound(error: unknown): boolean {
  return (error as { api_error?: { err_code?: number } }).api_error?.err_code === CONSUMER_NOT_FOUND;
}

/**
 * The durable pull consumer this source reads through, made to fit: an existing one is used as it
 * is (its ack state is the position) after checking it acknowledges explicitly, is a pull consumer
 * and filters the configured subject, with max_ack_pending and ack_wait brought to the settings; a
 * missing one is created from the checkpoint's stream sequence, or as deliverPolicy says.
 */
export async function bindDurable(
  jsm: JetStreamManager,
  settings: DurableSettings,
  config: Pick<NatsSourceConfig, "createConsumer" | "deliverPolicy">,
  resumeSequence: number | undefined,
): Promise<ConsumerInfo> {
  let info: ConsumerInfo | undefined;
  try {
    info = await jsm.consumers.info(settings.stream, settings.name);
  } catch (error) {
    if (!isConsumerNotFound(error)) throw error;
  }
  if (info) {
    const problem = unfitConsumer(info.config, settings);
    if (problem) throw new PermanentError(problem);
    if (
      info.config.max_ack_pending !== settings.maxAckPending ||
      info.config.ack_wait !== nanos(settings.ackWaitMs)
    ) {
      info = await jsm.consumers.update(settings.stream, settings.name, {
        max_ack_pending: settings.maxAckPending,
        ack_wait: nanos(settings.ackWaitMs),
      });
    }
    return info;
  }
  if (!config.createConsumer) {
    throw new PermanentError(
      `stream ${settings.stream} has no consumer ${settings.name} and createConsumer is false`,
    );
  }
  const start: Partial<ConsumerConfig> =
    resumeSequence !== undefined
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, resumeSequence) }
      : { deliver_policy: config.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All };
  return jsm.consumers.add(settings.stream, {
    durable_name: settings.name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxAckPending,
    // Unlimited: a consumer that gave up on a message after N deliveries would drop it unacknowledged.
    max_deliver: -1,
    ...(settings.filterSubject !== undefined ? { filter_subject: settings.filterSubject } : {}),
    ...start,
  });
}

/** Why an existing consumer cannot be this source's, or undefined when it can. */
export function unfitConsumer(config: ConsumerConfig, settings: DurableSettings): string | undefined {
  const what = `consumer ${settings.name} of stream ${settings.stream}`;
  if (config.deliver_subject) return `${what} is a push consumer; this source needs a pull consumer`;
  if (config.ack_policy !== AckPolicy.Explicit)
    return `${what} acknowledges with ack_policy ${config.ack_policy}; this source needs explicit`;
  if ((config.filter_subject || undefined) !== settings.filterSubject)
    return `${what} filters ${JSON.stringify(config.filter_subject || "(everything)")}, not ${JSON.stringify(settings.filterSubject ?? "(everything)")}: name another consumer or delete this one`;
  if (config.max_deliver !== undefined && config.max_deliver > 0)
    return `${what} has max_deliver ${config.max_deliver}: a message delivered that often would be dropped unacknowledged; set it to -1`;
  return undefined;
}
