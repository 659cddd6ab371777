export * from "./file-consumer";
export * from "./file-consumer-config";
