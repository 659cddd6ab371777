import { fromBinary, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import { allMessageDescriptors, CONTRACT_REGISTRY, codecOf } from "../test-support/contract-registry";
import { withoutUnknownFields } from "../test-support/message-codec";
import { ALL_CONTRACTS } from "../test-support/samples/all-contracts";

/**
 * The contracts are language-agnostic: a service in Go or Python must read what a Flow
 * service writes. protobuf-es, driven only by the descriptors buf compiled from proto/, stands
 * in for that other implementation: binary and proto3 JSON must agree both ways.
 */
const cases = ALL_CONTRACTS.flatMap((contract) => {
  const pkg = contract.module.protobufPackage as string;
  return Object.entries(contract.samples).flatMap(([message, samples]) => {
    const descriptor = CONTRACT_REGISTRY.getMessage(`${pkg}.${message.replace(/_/g, ".")}`);
    // Map entries (Event_ExtensionsEntry) are no message of their own in protobuf-es.
    if (!descriptor) return [];
    return samples.map((sample, index) => [`${pkg}.${message} #${index + 1}`, descriptor, sample] as const);
  });
});

describe("ts-proto and protobuf-es agree", () => {
  it("on which messages exist", () => {
    expect(allMessageDescriptors().length).toBeGreaterThan(50);
    for (const descriptor of allMessageDescriptors()) expect(() => codecOf(descriptor)).not.toThrow();
  });

  describe.each(cases)("%s", (_name, descriptor, sample) => {
    const codec = codecOf(descriptor);

    it("binary: each reads what the other writes", () => {
      const bytes = codec.encode(sample).finish();
      const other = fromBinary(descriptor, bytes);
      expect(withoutUnknownFields(codec.decode(toBinary(descriptor, other)))).toEqual(sample);
    });

    it("JSON: ts-proto writes canonical proto3 JSON, and reads protobuf-es's", () => {
      const other = fromBinary(descriptor, codec.encode(sample).finish());
      const canonical = toJson(descriptor, other, { registry: CONTRACT_REGISTRY }) as JsonValue;
      expect(codec.toJSON(sample)).toEqual(canonical);
      expect(withoutUnknownFields(codec.fromJSON(canonical))).toEqual(sample);
      const mine = JSON.parse(JSON.stringify(codec.toJSON(sample))) as JsonValue;
      expect(toBinary(descriptor, fromJson(descriptor, mine, { registry: CONTRACT_REGISTRY }))).toEqual(
        toBinary(descriptor, other),
      );
    });
  });
});
