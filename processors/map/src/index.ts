export * from "./map-config";
export * from "./map-processor";
