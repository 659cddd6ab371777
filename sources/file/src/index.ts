// The CloudEvents JSON reader this source uses is the SDK's; exported here as before.
export { cloudEventFromJson, InvalidCloudEventError } from "@flow/sdk";
export * from "./file-source";
export * from "./file-source-config";
