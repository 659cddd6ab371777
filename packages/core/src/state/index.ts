export * from "./open-state-store";
export * from "./postgres-state-store";
export * from "./run-liveness";
export * from "./sqlite-state-store";
export * from "./state-store";
export {
  ACCEPTED_STATE_STORE_URLS,
  DEFAULT_POSTGRES_SCHEMA,
  DEFAULT_STATE_STORE_URL,
  maskPassword,
  parseStateStoreUrl,
  type StateStoreLocation,
} from "./state-store-url";
export * from "./store-errors";
