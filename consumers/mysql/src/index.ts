export * from "./mysql-consumer";
