export * from "./cloudevent-message";
export * from "./nats-consumer";
export * from "./nats-consumer-config";
