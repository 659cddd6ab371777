export * from "./http-source";
