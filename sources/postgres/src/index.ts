export * from "./postgres-source";
export * from "./postgres-source-config";
