export * from "./postgres-consumer";
