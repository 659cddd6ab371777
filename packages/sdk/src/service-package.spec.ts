import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsumerServiceService } from "./gen/consumer_service/v1/consumer";
import { ConsumerServiceService as ConsumerServiceV2 } from "./gen/consumer_service/v2/consumer";
import { ProcessorServiceService } from "./gen/processor_service/v1/processor";
import { ProcessorServiceService as ProcessorServiceV2 } from "./gen/processor_service/v2/processor";
import { callerFile, findServicePackage, packageDirOf } from "./service-package";

const packageDir = join(__dirname, "..");

describe("finding a service's package from the module that serves it", () => {
  it("names the file of the function's caller", () => {
    const callee = (): string | undefined => callerFile(callee);
    expect(callee()).toBe(__filename);
  });

  it("finds the nearest package.json and the family's generated service in the nearest gen/ above", () => {
    expect(packageDirOf(__filename)).toBe(packageDir);
    const fixture = join(__dirname, "test-support", "fixtures", "echo-processor.js");
    expect(findServicePackage(fixture, "processor")).toEqual({
      services: [
        { major: 1, service: ProcessorServiceService },
        { major: 2, service: ProcessorServiceV2 },
      ],
      packageDir,
    });
    expect(findServicePackage(__filename, "consumer").services.map(({ service }) => service)).toEqual([
      ConsumerServiceService,
      ConsumerServiceV2,
    ]);
  });

  it("says what to do when the package generated no such contract", () => {
    const dir = mkdtempSync(join(tmpdir(), "flow-service-package-"));
    try {
      writeFileSync(join(dir, "package.json"), "{}");
      mkdirSync(join(dir, "dist"));
      expect(() => findServicePackage(join(dir, "dist", "main.js"), "source")).toThrow(
        `no generated source_service contract (gen/source_service/v<major>/source) between ${join(dir, "dist")} and ${dir}: vendor it into proto/ and run pnpm generate, or pass { service, packageDir } to serve*`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
