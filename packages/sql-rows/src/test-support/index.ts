export * from "./sql-consumer-suite";
