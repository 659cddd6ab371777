export * from "./event-view";
export * from "./filter-config";
export * from "./filter-processor";
export * from "./json-content-type";
export * from "./jsonata-expression";
