import { type ConfigIssue, errorIssue } from "@flow/sdk";
import type { NatsConnection } from "nats";
import { isConsumerNotFound, unfitConsumer } from "./durable-consumer";
import { connectNats, subjectCovers } from "./nats-connection";
import { DEFAULT_IN_FLIGHT, defaultConsumerName, type NatsSourceConfig } from "./nats-source-config";

/** JetStream's error code for "stream not found". */
const STREAM_NOT_FOUND = 10059;

/**
 * What validate-only checks on the real server, each at its field: the servers answer (with these
 * credentials) and have JetStream, the stream exists, the filter subject is one the stream covers,
 * and the consumer exists when it will not be created, or fits when it does.
 */
export async function validateNatsSource(
  config: NatsSourceConfig,
  context: { stageId: string; validateOnly: boolean },
): Promise<ConfigIssue[]> {
  // At a stream's start the broker is left to the stream, where an outage is retried rather than
  // refused as an invalid configuration.
  if (!context.validateOnly) return [];
  let nc: NatsConnection;
  try {
    nc = await connectNats(config, `flow-source-nats validate ${context.stageId}`, {
      maxReconnectAttempts: 0,
      timeout: 3000,
    });
  } catch (error) {
    const pointer = /authoriz|auth/i.test(String(error)) ? (config.token ? "/token" : "/user") : "/servers";
    return [
      errorIssue(pointer, `cannot connect to ${config.servers.join(", ")}: ${(error as Error).message}`),
    ];
  }
  try {
    const jsm = await nc.jetstreamManager().catch((error: Error) => {
      throw Object.assign(new Error(`JetStream is not enabled on the server: ${error.message}`), {
        pointer: "/servers",
      });
    });
    let subjects: string[];
    try {
      subjects = (await jsm.streams.info(config.stream)).config.subjects ?? [];
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
    const issues: ConfigIssue[] = [];
    if (
      config.filterSubject !== undefined &&
      !subjects.some((s) => subjectCovers(s, config.filterSubject ?? ""))
    ) {
      issues.push(
        errorIssue(
          "/filterSubject",
          `stream ${config.stream} does not cover subject ${config.filterSubject} (its subjects: ${subjects.join(", ") || "none"})`,
        ),
      );
    }
    const name = config.consumer ?? defaultConsumerName(context.stageId);
    try {
      const info = await jsm.consumers.info(config.stream, name);
      const problem = unfitConsumer(info.config, {
        stream: config.stream,
        name,
        filterSubject: config.filterSubject,
        maxAckPending: config.maxAckPending ?? DEFAULT_IN_FLIGHT,
        ackWaitMs: config.ackWaitMs,
      });
      if (problem) issues.push(errorIssue(config.consumer ? "/consumer" : "", problem));
    } catch (error) {
      if (!isConsumerNotFound(error)) throw error;
      if (!config.createConsumer) {
        issues.push(
          errorIssue(
            config.consumer ? "/consumer" : "/createConsumer",
            `stream ${config.stream} has no consumer ${name}, and createConsumer is false`,
          ),
        );
      }
    }
    return issues;
  } catch (error) {
    return [errorIssue((error as { pointer?: string }).pointer ?? "/servers", (error as Error).message)];
  } finally {
    await nc.close();
  }
}
