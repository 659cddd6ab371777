import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CORE_CONTRACTS } from "@flow/core";
import { coreContracts, versionText } from "./core-contracts";

describe("the contracts flow --version names", () => {
  it("are Core's family majors and the other contracts its proto/ holds, each with the release its lock vendored", () => {
    const dir = mkdtempSync(join(tmpdir(), "flow-core-contracts-"));
    try {
      // A family contract's folder is not what counts (Core's generated code is): v3 here is ignored.
      for (const folder of ["source_service/v3", "event/v1", "registry_service/v1"])
        mkdirSync(join(dir, "proto", folder), { recursive: true });
      writeFileSync(join(dir, "proto", "buf.yaml"), "version: v2\n");
      writeFileSync(
        join(dir, "proto-pins.lock.yaml"),
        `lockfileVersion: 1
vendored:
${[
  ["source_service", "1.0.3", "v1"],
  ["source_service", "2.1.0", "v2"],
  ["event", "1.2.0", "v1"],
]
  .map(
    ([name, version, major]) =>
      `  - { pin: "${name}@^${version?.[0]}", name: ${name}, version: ${version}, source: x, commit: c, tree: t, path: proto/${name}/${major} }`,
  )
  .join("\n")}
`,
      );
      const contracts = coreContracts(dir, { source: { name: "source_service", majors: [1, 2] } });
      expect(contracts).toEqual([
        { name: "event", major: 1, version: "1.2.0" },
        { name: "registry_service", major: 1 },
        { name: "source_service", major: 1, version: "1.0.3" },
        { name: "source_service", major: 2, version: "2.1.0" },
      ]);
      expect(versionText("1.2.3", contracts)).toBe(
        "flow 1.2.3\nservice contracts: registry_service v1, source_service v1 (1.0.3), source_service v2 (2.1.0)\nshared types: event v1 (1.2.0)",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("of the real Core are the majors Core negotiates, each with its vendored release", () => {
    const families = coreContracts().filter((contract) => contract.name !== "registry_service");
    const services = families.filter((contract) => contract.name.endsWith("_service"));
    expect(services.map((contract) => `${contract.name} v${contract.major}`)).toEqual(
      Object.values(CORE_CONTRACTS)
        .flatMap(({ name, majors }) => majors.map((major) => `${name} v${major}`))
        .sort(),
    );
    expect(services.map((contract) => `${contract.name} v${contract.major}`)).toEqual(
      expect.arrayContaining(["source_service v2", "processor_service v2", "consumer_service v2"]),
    );
    for (const contract of services) expect(contract.version).toMatch(new RegExp(`^${contract.major}\\.`));
  });
});
