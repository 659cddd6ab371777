import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { GitRepo } from "./git";
import { parseContractPath } from "./proto-layout";
import { parseProtoOutline } from "./proto-outline";
import { ProtoSyntaxError } from "./proto-tokenizer";

/** A contract major another contract imports: `event/v1/event.proto` is event, major 1. */
export interface ImportedMajor {
  name: string;
  major: number;
}

/** The contract majors the .proto files of a released tree import (by versioned path). */
export function importedMajorsOfTree(repo: GitRepo, tree: string): ImportedMajor[] {
  const files = (repo.tryRun(["ls-tree", "-r", "--name-only", "-z", tree]) ?? "")
    .split("\0")
    .filter((file) => file.endsWith(".proto"));
  return importsOf(files.map((file) => repo.tryRun(["cat-file", "blob", `${tree}:${file}`]) ?? ""));
}

/** The contract majors the .proto files of a working-tree folder import. */
export function importedMajorsOfFolder(folder: string): ImportedMajor[] {
  if (!existsSync(folder)) return [];
  const files = readdirSync(folder).filter((entry) => entry.endsWith(".proto"));
  return importsOf(files.map((file) => readFileSync(join(folder, file), "utf8")));
}

function importsOf(texts: string[]): ImportedMajor[] {
  const found = new Map<string, ImportedMajor>();
  for (const text of texts) {
    let imports: { path: string }[];
    try {
      imports = parseProtoOutline(text).imports;
    } catch (error) {
      if (error instanceof ProtoSyntaxError) continue; // lint reports it
      throw error;
    }
    for (const imported of imports) {
      const path = parseContractPath(imported.path);
      if (typeof path !== "string")
        found.set(`${path.dir}/v${path.major}`, { name: path.dir, major: path.major });
    }
  }
  return [...found.values()];
}
