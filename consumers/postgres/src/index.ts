export * from "./copy-text";
export * from "./postgres-consumer";
export * from "./postgres-consumer-config";
export * from "./postgres-errors";
export * from "./postgres-session";
export * from "./postgres-table";
