export * from "./postgres-source";
