import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  ALL_CORE_MAJORS,
  CORE_CONTRACTS,
  contractOfPackage,
  FAMILY_CONTRACTS,
  familyContract,
  methodPath,
} from "./family-contracts";

const CORE_DIR = join(__dirname, "..", "..");

/** `<name> v<major>` for every `<root>/<name>/v<major>/` folder of a family contract. */
function majorFolders(root: string): string[] {
  return readdirSync(root)
    .filter((name) => name.endsWith("_service") && name !== "registry_service")
    .flatMap((name) =>
      readdirSync(join(root, name))
        .filter((folder) => /^v\d+$/.test(folder) && existsSync(join(root, name, folder)))
        .map((folder) => `${name} ${folder}`),
    )
    .sort();
}

const spoken = (): string[] =>
  Object.values(CORE_CONTRACTS)
    .flatMap(({ name, majors }) => majors.map((major) => `${name} v${major}`))
    .sort();

describe("the family contracts Core speaks", () => {
  it("are exactly the majors vendored in proto/ and generated in src/gen/", () => {
    expect(spoken()).toEqual(majorFolders(join(CORE_DIR, "proto")));
    expect(spoken()).toEqual(majorFolders(join(CORE_DIR, "src", "gen")));
  });

  it("are today v1 and v2 of each family, named by their generated packages", () => {
    expect(CORE_CONTRACTS).toEqual({
      source: { name: "source_service", majors: [1, 2] },
      processor: { name: "processor_service", majors: [1, 2] },
      consumer: { name: "consumer_service", majors: [1, 2] },
    });
    expect(ALL_CORE_MAJORS).toEqual([1, 2]);
    expect(FAMILY_CONTRACTS).toHaveLength(6);
  });

  it("give each major's own method paths", () => {
    expect(methodPath("source", 1, "stream")).toBe(
      "/flow.microservices.source_service.v1.SourceService/Read",
    );
    expect(methodPath("processor", 2, "stream")).toBe(
      "/flow.microservices.processor_service.v2.ProcessorService/Process",
    );
    expect(methodPath("consumer", 2, "describe")).toBe(
      "/flow.microservices.consumer_service.v2.ConsumerService/Describe",
    );
    expect(methodPath("processor", 2, "ingest")).toBe(
      "/flow.microservices.processor_service.v2.ProcessorService/Ingest",
    );
    expect(methodPath("consumer", 2, "ingest")).toBe(
      "/flow.microservices.consumer_service.v2.ConsumerService/Ingest",
    );
    expect(() => methodPath("consumer", 1, "ingest")).toThrow("consumer contract v1 has no ingest rpc");
    expect(() => methodPath("source", 2, "ingest")).toThrow("source contract v2 has no ingest rpc");
    for (const contract of FAMILY_CONTRACTS) {
      for (const method of Object.values(contract.service)) {
        expect(method.path).toContain(`.${contract.name}.v${contract.major}.`);
      }
    }
  });

  it("refuse a major Core has no code for, saying which it has", () => {
    expect(() => familyContract("processor", 3)).toThrow(
      "this core does not speak processor_service v3 (it speaks processor_service v1, v2)",
    );
    expect(() => contractOfPackage("flow.microservices.event")).toThrow(/not a Flow contract package/);
  });
});
