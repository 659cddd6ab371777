export * from "./mqtt-source";
