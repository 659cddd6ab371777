export * from "./message-event";
export * from "./nats-checkpoint";
export * from "./nats-source";
export * from "./nats-source-config";
