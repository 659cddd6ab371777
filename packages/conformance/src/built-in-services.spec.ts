import { existsSync } from "node:fs";
import { join } from "node:path";
import { findWorkspaceRoot, listWorkspacePackages } from "@flow/core";
import { builtInConfigPath } from "./kit/conform-config";
import { runConformance } from "./kit/run-conformance";

// `flow conform` against every built-in service, with its real external system (the local
// servers of the machine), from the conformance config kept in built-in/ (or the package's own
// conform.json), at every contract major it serves (each built on the SDK serves v1 and v2). A
// service package without a config fails here.
const root = findWorkspaceRoot(__dirname) as string;
const services = [...listWorkspacePackages(root)]
  .filter(([, dir]) => /\/(sources|processors|consumers)\/[^/]+$/.test(dir))
  .map(([name, dir]) => ({ name, dir }))
  .sort((a, b) => a.name.localeCompare(b.name));

const hasConfig = (service: { name: string; dir: string }) =>
  existsSync(join(service.dir, "conform.json")) || existsSync(builtInConfigPath(service.name));

// A service is started about ten times and waits on its real system: generous, for a loaded
// machine (no check waits for a time when things go right).
jest.setTimeout(600_000);

it("every built-in service has a conformance config", () => {
  expect(services.filter((service) => !hasConfig(service)).map((service) => service.name)).toEqual([]);
});

describe.each(services.filter(hasConfig))("flow conform $name", ({ name, dir }) => {
  it("passes every check", async () => {
    const built = existsSync(join(dir, "dist"));
    if (!built) throw new Error(`${name} is not built: pnpm build --filter=${name}`);
    const report = await runConformance({
      locator: { kind: "use", packageName: name },
      baseDir: root,
      handshakeTimeoutMs: 30_000,
      timeoutMs: 30_000,
    });
    const failures = report.results
      .filter((result) => result.status === "fail")
      .map(
        (result) =>
          `${result.contract ? `${result.contract} v${result.major}: ` : ""}${result.id}: ${result.why}`,
      );
    expect(failures).toEqual([]);
  });
});
