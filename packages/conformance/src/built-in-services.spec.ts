import { existsSync } from "node:fs";
import { join } from "node:path";
import { findWorkspaceRoot, listWorkspacePackages } from "@flow/core";
import { builtInConfigPath } from "./kit/conform-config";
import { runConformance } from "./kit/run-conformance";

// `flow conform` against every built-in service, with its real external system (the local
// servers of the machine), from the conformance config kept in built-in/ (or the package's own
// conform.json). A service package without one fails here, unless it is listed as pending.
const root = findWorkspaceRoot(__dirname) as string;
const services = [...listWorkspacePackages(root)]
  .filter(([, dir]) => /\/(sources|processors|consumers)\/[^/]+$/.test(dir))
  .map(([name, dir]) => ({ name, dir }))
  .sort((a, b) => a.name.localeCompare(b.name));

const hasConfig = (service: { name: string; dir: string }) =>
  existsSync(join(service.dir, "conform.json")) || existsSync(builtInConfigPath(service.name));

/**
 * Services without a conformance config yet, each with what it needs (see the package README of
 * @flow/conformance). Every other service package must have one.
 */
const PENDING: Record<string, string> = {
  "@flow/source-nats": "a feed: no NATS command-line client on the machine",
  "@flow/consumer-nats": "a config for a stream of its own per scenario",
  "@flow/source-rabbitmq": "a feed (rabbitmqadmin publish)",
  "@flow/consumer-rabbitmq": "a config for a queue of its own per scenario",
  "@flow/source-postgres": "a private logical-replication cluster (being written)",
  "@flow/source-http": "being written",
  "@flow/consumer-http": "being written",
};

jest.setTimeout(300_000);

it("every built-in service has a conformance config, or is listed as pending", () => {
  const missing = services
    .filter((service) => !hasConfig(service) && !(service.name in PENDING))
    .map((s) => s.name);
  expect(missing).toEqual([]);
});

describe.each(services.filter(hasConfig))("flow conform $name", ({ name, dir }) => {
  it("passes every check", async () => {
    const built = existsSync(join(dir, "dist"));
    if (!built) throw new Error(`${name} is not built: pnpm build --filter=${name}`);
    const report = await runConformance({ locator: { kind: "use", packageName: name }, baseDir: root });
    const failures = report.results
      .filter((result) => result.status === "fail")
      .map((result) => `${result.id}: ${result.why}`);
    expect(failures).toEqual([]);
  });
});
