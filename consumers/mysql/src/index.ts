export * from "./mysql-consumer";
export * from "./mysql-consumer-config";
export * from "./mysql-errors";
export * from "./mysql-session";
export * from "./mysql-table";
