import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { resolveServicePackage } from "./workspace-packages";

let top: string;
beforeEach(() => {
  top = realpathSync(mkdtempSync(join(tmpdir(), "flow-use-")));
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(top, path)), { recursive: true });
  writeFileSync(join(top, path), text);
}

/** A built service package at `dir`: package.json with a bin, and the program it names. */
function servicePackage(dir: string, name: string, options: { built?: boolean } = {}): void {
  write(`${dir}/package.json`, JSON.stringify({ name, version: "1.0.0", bin: { x: "dist/main.js" } }));
  if (options.built !== false) write(`${dir}/dist/main.js`, "");
}

describe("use: outside a pnpm workspace", () => {
  it("finds a package npm installed (flat node_modules) from a folder below it", () => {
    write("project/package.json", JSON.stringify({ name: "project" }));
    servicePackage("project/node_modules/@acme/source-orders", "@acme/source-orders");
    mkdirSync(join(top, "project/pipelines"));

    const found = resolveServicePackage("@acme/source-orders", join(top, "project/pipelines"));

    expect(found).toEqual({
      name: "@acme/source-orders",
      dir: join(top, "project/node_modules/@acme/source-orders"),
      entry: join(top, "project/node_modules/@acme/source-orders/dist/main.js"),
    });
  });

  it("finds a package pnpm installed (a symlink into node_modules/.pnpm) at its real path", () => {
    const real = "project/node_modules/.pnpm/@acme+source-orders@1.0.0/node_modules/@acme/source-orders";
    servicePackage(real, "@acme/source-orders");
    mkdirSync(join(top, "project/node_modules/@acme"), { recursive: true });
    symlinkSync(join(top, real), join(top, "project/node_modules/@acme/source-orders"), "dir");

    const found = resolveServicePackage("@acme/source-orders", join(top, "project"));

    expect(found.dir).toBe(join(top, real));
    expect(found.entry).toBe(join(top, real, "dist/main.js"));
  });

  it("finds the package the pipeline belongs to (a service's own repository)", () => {
    servicePackage("upper", "flow-processor-upper");
    mkdirSync(join(top, "upper/examples"));

    expect(resolveServicePackage("flow-processor-upper", join(top, "upper")).dir).toBe(join(top, "upper"));
    expect(resolveServicePackage("flow-processor-upper", join(top, "upper/examples")).entry).toBe(
      join(top, "upper/dist/main.js"),
    );
  });

  it("looks past the pipeline's own package.json into node_modules", () => {
    servicePackage("upper", "flow-processor-upper");
    servicePackage("upper/node_modules/@flow/source-generator", "@flow/source-generator");

    expect(resolveServicePackage("@flow/source-generator", join(top, "upper")).dir).toBe(
      join(top, "upper/node_modules/@flow/source-generator"),
    );
  });

  it("says what is not installed, with the installed service packages as a hint", () => {
    servicePackage("project/node_modules/@flow/source-generator", "@flow/source-generator");
    write("project/node_modules/yaml/package.json", JSON.stringify({ name: "yaml" }));

    expect(() => resolveServicePackage("@flow/source-generater", join(top, "project"))).toThrow(
      expect.objectContaining({
        message: `use: "@flow/source-generater" is not installed: no node_modules/@flow/source-generater at or above ${join(top, "project")}`,
        hint: 'did you mean "@flow/source-generator"?',
      }),
    );
    expect(() => resolveServicePackage("@acme/other", join(top, "project"))).toThrow(
      expect.objectContaining({ hint: "service packages: @flow/source-generator" }),
    );
  });

  it("says how to build an installed package whose program is missing", () => {
    servicePackage("upper", "flow-processor-upper", { built: false });

    expect(() => resolveServicePackage("flow-processor-upper", join(top, "upper"))).toThrow(
      expect.objectContaining({
        message: `use: "flow-processor-upper" is not built (${join(top, "upper/dist/main.js")} is missing)`,
        hint: `build it: npm run build (in ${join(top, "upper")})`,
      }),
    );
  });
});

describe("use: inside a pnpm workspace", () => {
  beforeEach(() => write("repo/pnpm-workspace.yaml", "packages:\n  - sources/*\n"));

  it("finds a workspace package before anything installed under the same name", () => {
    servicePackage("repo/sources/orders", "@acme/source-orders");
    servicePackage("repo/node_modules/@acme/source-orders", "@acme/source-orders");

    expect(resolveServicePackage("@acme/source-orders", join(top, "repo")).dir).toBe(
      join(top, "repo/sources/orders"),
    );
  });

  it("finds a package installed in the workspace's node_modules too", () => {
    servicePackage("repo/node_modules/@acme/consumer-audit", "@acme/consumer-audit");
    mkdirSync(join(top, "repo/pipelines"));

    expect(resolveServicePackage("@acme/consumer-audit", join(top, "repo/pipelines")).dir).toBe(
      join(top, "repo/node_modules/@acme/consumer-audit"),
    );
  });

  it("lists nothing for a workspace pattern whose folder does not exist", () => {
    servicePackage("repo/node_modules/@acme/consumer-audit", "@acme/consumer-audit");

    expect(resolveServicePackage("@acme/consumer-audit", join(top, "repo")).name).toBe(
      "@acme/consumer-audit",
    );
  });

  it("names the workspace when the package is nowhere", () => {
    servicePackage("repo/sources/orders", "@acme/source-orders");

    expect(() => resolveServicePackage("@acme/source-order", join(top, "repo"))).toThrow(
      expect.objectContaining({
        message: `use: "@acme/source-order" is not a package of the workspace at ${join(top, "repo")}, nor installed in node_modules`,
        hint: 'did you mean "@acme/source-orders"?',
      }),
    );
  });
});
