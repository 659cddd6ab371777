export * from "./mqtt-consumer";
