export * from "./postgres-for-tests";
