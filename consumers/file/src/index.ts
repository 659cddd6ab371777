export * from "./cloudevent-json-line";
export * from "./file-consumer";
export * from "./file-consumer-config";
