import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { loadSync } from "@grpc/proto-loader";
import { describingOnly, linkFileDescriptors, protocMapEntryName } from "./reflection-descriptors";
import { SDK_PROTO_DIR } from "./test-support/family-servers";

function filesOf(definition: ReturnType<typeof loadSync>): Map<string, FileDescriptorProto> {
  const files = new Map<string, FileDescriptorProto>();
  for (const entry of Object.values(definition)) {
    for (const bytes of (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      files.set(file.name, file);
    }
  }
  return files;
}

describe("linkFileDescriptors", () => {
  const definition = loadSync(["source_service/v1/source.proto"], { includeDirs: [SDK_PROTO_DIR] });
  const before = filesOf(definition);
  const after = filesOf(linkFileDescriptors(definition));
  const sourceFile = [...after.values()].find(
    (file) => file.package === "flow.microservices.source_service.v1",
  );

  it("starts from what proto-loader gives: no dependencies and relative type names", () => {
    const raw = [...before.values()].find((file) => file.package === "flow.microservices.source_service.v1");
    expect(raw?.dependency).toEqual([]);
    const component = raw?.messageType.find((m) => m.name === "DescribeResponse")?.field[0]?.typeName;
    expect(component).toBe("component.v1.ComponentDescriptor");
  });

  it("lists the files each file uses and makes every reference fully qualified", () => {
    const byPackage = (pkg: string) => [...after.values()].find((file) => file.package === pkg)?.name;
    expect(sourceFile?.dependency).toEqual(
      [
        byPackage("flow.microservices.checkpoint.v1"),
        byPackage("flow.microservices.component.v1"),
        byPackage("flow.microservices.event.v1"),
      ].sort(),
    );
    const describe = sourceFile?.messageType.find((m) => m.name === "DescribeResponse");
    expect(describe?.field[0]?.typeName).toBe(".flow.microservices.component.v1.ComponentDescriptor");
    const method = sourceFile?.service[0]?.method.find((m) => m.name === "Read");
    expect([method?.inputType, method?.outputType]).toEqual([
      ".flow.microservices.source_service.v1.ReadRequest",
      ".flow.microservices.source_service.v1.ReadResponse",
    ]);
    const event = [...after.values()].find((file) => file.package === "flow.microservices.event.v1");
    expect(event?.dependency).toEqual([]);
  });

  it("names map entries as protoc does, which protoc-based clients (buf curl, Python) require", () => {
    const rawEvent = [...before.values()]
      .find((file) => file.package === "flow.microservices.event.v1")
      ?.messageType.find((m) => m.name === "Event");
    // What protobufjs gives: the entry named after its field, which `buf curl` refuses.
    expect(rawEvent?.nestedType.filter((m) => m.options?.mapEntry).map((m) => m.name)).toEqual([
      "Extensions",
    ]);
    const event = [...after.values()]
      .find((file) => file.package === "flow.microservices.event.v1")
      ?.messageType.find((m) => m.name === "Event");
    const entry = event?.nestedType.find((m) => m.options?.mapEntry);
    expect(entry?.name).toBe("ExtensionsEntry");
    expect(entry?.field.map((f) => [f.name, f.number])).toEqual([
      ["key", 1],
      ["value", 2],
    ]);
    expect(event?.field.find((f) => f.name === "extensions")?.typeName).toBe(
      ".flow.microservices.event.v1.Event.ExtensionsEntry",
    );
  });

  it.each([
    ["extensions", "ExtensionsEntry"],
    ["user_properties", "UserPropertiesEntry"],
    ["a__b_", "ABEntry"],
    ["_x9_y", "X9YEntry"],
    ["v2_0", "V20Entry"],
  ])("protoc's entry name of map field %s is %s", (field, entry) => {
    expect(protocMapEntryName(field)).toBe(entry);
  });

  it("yields descriptors a strict runtime accepts on their own", () => {
    const ordered = ["checkpoint", "component", "event", "source_service"].map(
      (name) =>
        [...after.values()].find(
          (file) => file.package === `flow.microservices.${name}.v1`,
        ) as FileDescriptorProto,
    );
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
    const read = registry
      .getService("flow.microservices.source_service.v1.SourceService")
      ?.methods.find((m) => m.name === "Read");
    expect(read?.input.typeName).toBe("flow.microservices.source_service.v1.ReadRequest");
    expect(
      registry
        .getMessage("flow.microservices.source_service.v1.ReadStart")
        ?.fields.find((f) => f.name === "checkpoint")?.message?.typeName,
    ).toBe("flow.microservices.checkpoint.v1.Checkpoint");
  });
});

describe("describingOnly", () => {
  const linked = linkFileDescriptors(
    loadSync(["processor_service/v1/processor.proto", "processor_service/v2/processor.proto"], {
      includeDirs: [SDK_PROTO_DIR],
    }),
  );
  const packagesOf = (definition: ReturnType<typeof loadSync>) =>
    [...filesOf(definition).values()].map((file) => file.package).sort();

  it("keeps the files that declare the services and those they import, and drops the rest", () => {
    expect(packagesOf(linked)).toContain("flow.microservices.processor_service.v2");
    expect(
      packagesOf(describingOnly(linked, ["flow.microservices.processor_service.v1.ProcessorService"])),
    ).toEqual([
      "flow.microservices.component.v1",
      "flow.microservices.event.v1",
      "flow.microservices.processor_service.v1",
    ]);
  });

  it("keeps every major named, and nothing for a name no file declares", () => {
    const both = describingOnly(linked, [
      "flow.microservices.processor_service.v1.ProcessorService",
      "flow.microservices.processor_service.v2.ProcessorService",
    ]);
    expect(packagesOf(both)).toEqual(packagesOf(linked));
    expect(packagesOf(describingOnly(linked, ["no.such.Service"]))).toEqual([]);
  });
});
