import { join } from "node:path";
import { type ConsumerDefinition, readPackageVersion } from "@flow/sdk";
import { publishIssues } from "./broker-connection";
import { ConfirmedPublisher } from "./confirmed-publisher";
import { type RabbitmqConsumerConfig, rabbitmqConsumerConfigSchema } from "./rabbitmq-consumer-config";

export const rabbitmqConsumer: ConsumerDefinition<RabbitmqConsumerConfig> = {
  name: "flow-consumer-rabbitmq",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Publishes events to RabbitMQ as persistent CloudEvents messages; a batch is WRITTEN once the broker confirmed every message",
  configSchema: rabbitmqConsumerConfigSchema,
  // RabbitMQ keeps no record of message ids: a batch sent again is published again.
  features: { ordering: "total", idempotent: false },

  validate(config, { validateOnly }) {
    // At a stream's start the first write connects and a failure there is retried.
    return validateOnly ? publishIssues(config) : [];
  },

  open(config) {
    const publisher = new ConfirmedPublisher(config);
    // No flush: each write resolves only once the broker confirmed the whole batch.
    return {
      write: (events) => publisher.publish(events),
      close: () => publisher.close(),
    };
  },
};
