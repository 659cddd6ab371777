import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFileRegistry, type DescMessage, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * The contracts this package vendors, as descriptors: compiled by buf from proto/ at generate
 * time into src/gen/contracts.binpb (the build copies it to dist/gen). What the generated ts-proto
 * code does not say at run time (which message an rpc takes and answers) is read here.
 */
export const CONTRACT_REGISTRY: Registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(join(__dirname, "..", "gen", "contracts.binpb"))),
);

/** The name ts-proto exports a message's functions under: `pkg.Event.ExtensionsEntry` → `Event_ExtensionsEntry`. */
export function generatedNameOf(descriptor: DescMessage): string {
  return descriptor.typeName.slice(descriptor.file.proto.package.length + 1).replace(/\./g, "_");
}
