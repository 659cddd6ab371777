export * from "./event-view";
export * from "./expression-timeout-schema";
export * from "./filter-config";
export * from "./filter-processor";
export * from "./jsonata-expression";
