export * from "./redis-source";
export * from "./redis-source-config";
export * from "./stream-entry-event";
