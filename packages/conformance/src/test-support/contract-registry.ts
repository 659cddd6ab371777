import type { DescMessage } from "@bufbuild/protobuf";
import { CONTRACT_REGISTRY, generatedNameOf } from "../kit/contract-descriptors";
import { type MessageCodec, messageCodecsOf } from "./message-codec";
import { ALL_CONTRACTS } from "./samples/all-contracts";

/**
 * The contracts as descriptors (the kit's, see contract-descriptors.ts). They drive protobuf-es, a
 * second protobuf implementation that the ts-proto code must agree with, and let tests find every
 * field of a kind without a hand-kept list.
 */
export { CONTRACT_REGISTRY };

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
  const name = generatedNameOf(descriptor);
  const codec = messageCodecsOf(contract.module).get(name);
  if (!codec) throw new Error(`${contract.contract} generates no codec ${name}`);
  return codec;
}
