export * from "./generator-config";
export * from "./generator-source";
