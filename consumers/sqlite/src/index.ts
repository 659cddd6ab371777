export * from "./event-row";
export * from "./sqlite-consumer";
export * from "./sqlite-consumer-config";
export * from "./sqlite-event-table";
