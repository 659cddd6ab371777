export * from "./cloudevent-json";
export * from "./file-source";
export * from "./file-source-config";
