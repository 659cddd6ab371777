import { join } from "node:path";
import {
  type ConfigIssue,
  type ConsumerDefinition,
  errorIssue,
  readPackageVersion,
  redactedUrl,
  serviceLogger,
  warningIssue,
} from "@flow/sdk";
import { type RedisConsumerConfig, redisConsumerConfigSchema } from "./redis-consumer-config";
import { StreamWriter } from "./stream-writer";

const logger = serviceLogger("flow-consumer-redis");
/** Servers whose persistence this process has warned about already (once is enough per server). */
const warned = new Set<string>();

export const redisConsumer: ConsumerDefinition<RedisConsumerConfig> = {
  name: "flow-consumer-redis",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "XADDs each event to a Redis stream as CloudEvents fields; WRITTEN once Redis replied to every XADD of the batch",
  configSchema: redisConsumerConfigSchema,
  features: { ordering: "total", idempotent: false },

  validate(config) {
    return checkServer(config);
  },

  async open(config) {
    const writer = StreamWriter.open(config);
    try {
      await writer.ready(config.commandTimeoutMs);
      const persistence = warned.has(config.url) ? undefined : await persistenceOf(writer);
      if (persistence && !persistence.durable) {
        warned.add(config.url);
        logger.warn(
          { appendonly: persistence.appendonly, appendfsync: persistence.appendfsync },
          persistence.warning,
        );
      }
    } catch {
      // Not connected yet: each write waits for the connection and answers retryable without it.
    }
    return {
      write: (events) => writer.write(events),
      close: () => writer.close(),
    };
  },
};

interface Persistence {
  durable: boolean;
  appendonly: string;
  appendfsync: string;
  warning: string;
}

/** What the server's persistence settings make of WRITTEN; undefined when CONFIG is not allowed. */
async function persistenceOf(writer: StreamWriter): Promise<Persistence | undefined> {
  try {
    const [, appendonly = "", , appendfsync = ""] = [
      ...((await writer.client.config("GET", "appendonly")) as string[]),
      ...((await writer.client.config("GET", "appendfsync")) as string[]),
    ];
    const durable = appendonly === "yes" && appendfsync === "always";
    const warning =
      appendonly !== "yes"
        ? "Redis keeps no append-only file (appendonly no): WRITTEN means accepted in memory, and a Redis restart loses what was written since its last snapshot, if any; for durability set appendonly yes and appendfsync always"
        : `Redis fsyncs its append-only file ${appendfsync === "everysec" ? "once a second" : "when the OS decides"} (appendfsync ${appendfsync}): a power cut can lose the last writes answered WRITTEN; appendfsync always makes each write durable before Redis replies`;
    return { durable, appendonly, appendfsync, warning };
  } catch {
    return undefined;
  }
}

/** Reaches the server: unreachable, a key of another type, a missing stream, too few replicas. */
async function checkServer(config: RedisConsumerConfig): Promise<ConfigIssue[]> {
  const writer = StreamWriter.open(config, { reconnect: false, connectTimeoutMs: 3000 });
  try {
    try {
      await writer.ready(3000);
    } catch (error) {
      return [
        errorIssue("/url", `cannot connect to ${redactedUrl(config.url)}: ${(error as Error).message}`),
      ];
    }
    const issues: ConfigIssue[] = [];
    const type = await writer.client.type(config.stream);
    if (type !== "none" && type !== "stream")
      issues.push(errorIssue("/stream", `${config.stream} is a ${type}, not a stream`));
    if (type === "none" && !config.createStream)
      issues.push(
        errorIssue("/stream", `stream ${config.stream} does not exist (or set createStream: true)`),
      );
    if (config.waitReplicas !== undefined) {
      const info = await writer.client.info("replication");
      const replicas = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
      if (replicas < config.waitReplicas)
        issues.push(
          warningIssue(
            "/waitReplicas",
            `the server has ${replicas} connected replica(s), fewer than waitReplicas ${config.waitReplicas}: every batch is answered retryable until enough replicas are connected`,
          ),
        );
    }
    const persistence = await persistenceOf(writer);
    if (persistence && !persistence.durable) issues.push(warningIssue("/url", persistence.warning));
    return issues;
  } finally {
    writer.close();
  }
}
