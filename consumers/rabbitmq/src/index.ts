export { CLOUDEVENT_HEADER_PREFIX, eventMessage, STRUCTURED_CONTENT_TYPE } from "./event-message";
export { rabbitmqConsumer } from "./rabbitmq-consumer";
export { type RabbitmqConsumerConfig, rabbitmqConsumerConfigSchema } from "./rabbitmq-consumer-config";
