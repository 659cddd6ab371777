export * from "./postgres-for-tests";
export * from "./readme-json-schema";
export * from "./stream-reader";
export * from "./unary";
