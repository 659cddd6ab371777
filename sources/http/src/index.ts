export * from "./http-source";
export * from "./http-source-config";
export { BATCH_MEDIA_TYPE, STRUCTURED_MEDIA_TYPE } from "./request-events";
