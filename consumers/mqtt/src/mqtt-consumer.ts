import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { type ConfigIssue, type ConsumerDefinition, errorIssue, readPackageVersion } from "@flow/sdk";
import { connectAsync } from "mqtt";
import { eventMessage } from "./cloudevent-message";
import { type MqttConsumerConfig, mqttConsumerConfigSchema } from "./mqtt-consumer-config";
import { MqttPublisher } from "./mqtt-publisher";
import { MQTT_MAX_STRING_BYTES } from "./publish-packet-limits";

export const mqttConsumer: ConsumerDefinition<MqttConsumerConfig> = {
  name: "flow-consumer-mqtt",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Publishes events to an MQTT topic at QoS 1 as CloudEvents and answers WRITTEN once the broker has acknowledged every message",
  configSchema: mqttConsumerConfigSchema,

  async validate(config, { validateOnly }) {
    const issues: ConfigIssue[] = [];
    if (config.mode === "binary" && config.protocolVersion === 4)
      issues.push(
        errorIssue(
          "/mode",
          "binary mode needs MQTT 5 user properties: use protocolVersion 5 or mode structured",
        ),
      );
    if (/[+#]/.test(config.topic))
      issues.push(errorIssue("/topic", "a topic to publish to has no wildcards (+, #)"));
    if (Buffer.byteLength(config.topic, "utf8") > MQTT_MAX_STRING_BYTES)
      issues.push(errorIssue("/topic", `a topic holds at most ${MQTT_MAX_STRING_BYTES} bytes of UTF-8`));
    if (issues.length > 0 || !validateOnly) return issues;
    return reachBroker(config);
  },

  open(config, { stageId }) {
    const clientId = config.clientId ?? `flow-${stageId}-${randomUUID().slice(0, 8)}`;
    const publisher = new MqttPublisher(config, clientId);
    return {
      write: (events) =>
        publisher.publishAll(events.map((event) => eventMessage(event, config.mode, config.protocolVersion))),
      close: () => publisher.close(),
    };
  },
};

/** Validate-only: connects (a throwaway client id), so an unreachable broker or refused credentials are reported. */
async function reachBroker(config: MqttConsumerConfig): Promise<ConfigIssue[]> {
  try {
    const client = await connectAsync(config.url, {
      clientId: `flow-validate-${randomUUID().slice(0, 8)}`,
      clean: true,
      protocolVersion: config.protocolVersion,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      username: config.username,
      password: config.password,
    });
    await client.endAsync(true);
    return [];
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "number")
      return [
        errorIssue(
          config.username === undefined ? "/url" : "/username",
          `the broker refused the connection: ${(error as Error).message}`,
        ),
      ];
    return [
      errorIssue(
        "/url",
        `cannot reach the MQTT broker at ${config.url}: ${(error as Error).message || String(code)}`,
      ),
    ];
  }
}
