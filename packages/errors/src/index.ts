export * from "./user-error";
