export { INVALID_CLOUDEVENT_TYPE, messageEvent } from "./message-event";
export { rabbitmqSource } from "./rabbitmq-source";
export { type RabbitmqSourceConfig, rabbitmqSourceConfigSchema } from "./rabbitmq-source-config";
