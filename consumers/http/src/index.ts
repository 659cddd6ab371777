export * from "./http-consumer";
