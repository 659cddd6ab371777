import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFileRegistry, type DescMessage, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { type MessageCodec, messageCodecsOf } from "./message-codec";
import { ALL_CONTRACTS } from "./samples/all-contracts";

/**
 * The contracts as descriptors, compiled by buf from this package's proto/ at generate time
 * (src/gen/contracts.binpb). They drive protobuf-es, a second protobuf implementation that the
 * ts-proto code must agree with, and let tests find every field of a kind without a hand-kept list.
 */
export const CONTRACT_REGISTRY: Registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(join(__dirname, "..", "gen", "contracts.binpb"))),
);

/** Every message of every contract this package vendors. */
export function allMessageDescriptors(): DescMessage[] {
  const messages: DescMessage[] = [];
  for (const type of CONTRACT_REGISTRY) if (type.kind === "message") messages.push(type);
  return messages.sort((a, b) => a.typeName.localeCompare(b.typeName));
}

/** The ts-proto codec of a message descriptor (`pkg.Event.ExtensionsEntry` -> `Event_ExtensionsEntry`). */
export function codecOf(descriptor: DescMessage): MessageCodec {
  const contract = ALL_CONTRACTS.find(
    (candidate) => candidate.module.protobufPackage === descriptor.file.proto.package,
  );
  if (!contract) throw new Error(`no generated module for package ${descriptor.file.proto.package}`);
  const name = descriptor.typeName.slice(descriptor.file.proto.package.length + 1).replace(/\./g, "_");
  const codec = messageCodecsOf(contract.module).get(name);
  if (!codec) throw new Error(`${contract.contract} generates no codec ${name}`);
  return codec;
}
