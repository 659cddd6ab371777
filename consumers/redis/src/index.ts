export * from "./redis-consumer";
export * from "./redis-consumer-config";
export * from "./stream-entry-fields";
