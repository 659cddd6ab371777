export * from "./postgres-for-tests";
export * from "./readme-json-schema";
export * from "./reflection-client";
export * from "./serve-for-tests";
export * from "./stream-reader";
export * from "./tcp-proxy";
export * from "./unary";
