import { type ConfigIssue, errorIssue } from "@flow/sdk";
import { connect, type NatsConnection } from "nats";
import { connectOptions } from "./nats-connect-options";
import type { NatsConsumerConfig } from "./nats-consumer-config";

/** JetStream's error code for "stream not found". */
const STREAM_NOT_FOUND = 10059;

/**
 * What validate-only checks on the real server, each at its field: the servers answer (with these
 * credentials) and have JetStream, the configured stream exists and covers the subject, or, with
 * no stream configured, some stream stores the subject.
 */
export async function validateNatsConsumer(
  config: NatsConsumerConfig,
  context: { stageId: string; validateOnly: boolean },
): Promise<ConfigIssue[]> {
  // At a stream's start the broker is left to the stream, where an outage is retried rather than
  // refused as an invalid configuration.
  if (!context.validateOnly) return [];
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...connectOptions(config, `flow-consumer-nats validate ${context.stageId}`),
      maxReconnectAttempts: 0,
      timeout: 3000,
    });
  } catch (error) {
    const pointer = /auth/i.test(String(error)) ? (config.token ? "/token" : "/user") : "/servers";
    return [
      errorIssue(pointer, `cannot connect to ${config.servers.join(", ")}: ${(error as Error).message}`),
    ];
  }
  try {
    let jsm: Awaited<ReturnType<NatsConnection["jetstreamManager"]>>;
    try {
      jsm = await nc.jetstreamManager();
    } catch (error) {
      return [errorIssue("/servers", `JetStream is not enabled on the server: ${(error as Error).message}`)];
    }
    // The stream that stores the subject, as the server itself decides it.
    const storing = await jsm.streams.find(config.subject).catch(() => undefined);
    if (config.stream === undefined) {
      return storing === undefined
        ? [errorIssue("/subject", `no JetStream stream stores subject ${config.subject}`)]
        : [];
    }
    try {
      await jsm.streams.info(config.stream);
    } catch (error) {
      const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code;
      return [
        errorIssue(
          "/stream",
          code === STREAM_NOT_FOUND
            ? `stream ${config.stream} does not exist on ${config.servers.join(", ")}`
            : `cannot read stream ${config.stream}: ${(error as Error).message}`,
        ),
      ];
    }
    if (storing !== config.stream) {
      return [
        errorIssue(
          "/subject",
          `stream ${config.stream} does not cover subject ${config.subject}${storing ? ` (stream ${storing} does)` : ""}`,
        ),
      ];
    }
    return [];
  } finally {
    await nc.close();
  }
}
