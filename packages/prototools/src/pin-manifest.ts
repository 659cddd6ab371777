import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "@flow/errors";
import { parseDocument } from "yaml";
import { type Pin, parsePin } from "./pin";

/**
 * A pin manifest sits beside a `proto/` folder that holds vendored copies and says which
 * released contracts belong there: `pins: [event@^1, source_service@^1]`.
 */
export const MANIFEST_FILE = "proto-pins.yaml";

export interface PinManifest {
  /** The folder holding the manifest, repository-relative ("" for the root). */
  dir: string;
  pins: Pin[];
}

const HEADER =
  "# Contracts vendored into ./proto by `flow proto vendor` (git read-tree), one <name>@<range> each.\n" +
  "# Edit the pins here, never the copies; proto-pins.lock.yaml records what was vendored.\n";

export function manifestPath(root: string, dir: string): string {
  return join(root, dir, MANIFEST_FILE);
}

export function hasManifest(root: string, dir: string): boolean {
  return existsSync(manifestPath(root, dir));
}

export function readManifest(root: string, dir: string): PinManifest {
  const file = manifestPath(root, dir);
  const where = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) {
    throw new UserError(`${where}: no pin manifest`, {
      hint: "create it with: flow proto add <dir> <name>@<range>",
    });
  }
  const document = parseDocument(readFileSync(file, "utf8"));
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const pos = first?.linePos?.[0];
    throw new UserError(
      `${where}${pos ? `:${pos.line}:${pos.col}` : ""}: ${first?.message ?? "invalid YAML"}`,
    );
  }
  const pins = (document.toJS() as { pins?: unknown } | null)?.pins ?? [];
  if (!Array.isArray(pins) || pins.some((pin) => typeof pin !== "string")) {
    throw new UserError(`${where}: "pins" must be a list of <name>@<range> strings`, {
      hint: "e.g. pins: [event@^1]",
    });
  }
  const parsed = (pins as string[]).map((spec) => parsePin(spec, where));
  const seen = new Map<string, string>();
  for (const pin of parsed) {
    const folder = `${pin.name}/v${pin.major}`;
    const other = seen.get(folder);
    if (other) throw new UserError(`${where}: pins "${other}" and "${pin.spec}" both vendor ${folder}`);
    seen.set(folder, pin.spec);
  }
  return { dir, pins: parsed };
}

export function writeManifest(root: string, manifest: PinManifest): void {
  const specs = manifest.pins.map((pin) => pin.spec);
  const body =
    specs.length === 0 ? "pins: []\n" : `pins:\n${specs.map((spec) => `  - "${spec}"\n`).join("")}`;
  writeFileSync(manifestPath(root, manifest.dir), HEADER + body);
}
