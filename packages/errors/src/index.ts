export * from "./cli-invocation";
export * from "./user-error";
