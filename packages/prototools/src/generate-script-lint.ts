import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, resolve } from "node:path";
import type { GitRepo } from "./git";

/** A package script that reads protos from outside its own folder. */
export interface ForeignProtoScript {
  /** The package.json, repository-relative. */
  file: string;
  line: number;
  col: number;
  script: string;
  /** The path as written in the script. */
  path: string;
  /** Where it leads, repository-relative. */
  target: string;
}

const OPTION_PREFIX = /^(?:--?[A-Za-z][\w-]*=|-I)/;

/**
 * Every script of every package.json that names protos outside its own package (`buf generate
 * ../../proto`, `protoc -I ../other/proto`): a package generates only from its own `proto/`,
 * the exact copies it pins, never from another package's contracts or the authored ones.
 */
export function findForeignProtoScripts(repo: GitRepo): ForeignProtoScript[] {
  const manifests = repo
    .run([
      "ls-files",
      "--cached",
      "--others",
      "--exclude-standard",
      "-z",
      "--",
      "package.json",
      "*/package.json",
    ])
    .split("\0")
    .filter((file) => file.endsWith("package.json") && !file.split("/").includes("node_modules"));
  const found: ForeignProtoScript[] = [];
  for (const file of [...new Set(manifests)].sort()) {
    const absolute = join(repo.root, file);
    if (!existsSync(absolute)) continue;
    const text = readFileSync(absolute, "utf8");
    let scripts: Record<string, unknown>;
    try {
      scripts = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts ?? {};
    } catch {
      continue; // not this rule's business
    }
    const dir = posix.dirname(file) === "." ? "" : posix.dirname(file);
    const packageRoot = join(repo.root, dir);
    for (const [script, command] of Object.entries(scripts)) {
      if (typeof command !== "string") continue;
      for (const token of command.split(/\s+|&&|\|\||;|\|/)) {
        const path =
          token
            .replace(OPTION_PREFIX, "")
            .replace(/^["']|["']$/g, "")
            .split("#")[0] ?? "";
        if (!path.includes("/") && path !== "..") continue;
        const target = resolve(packageRoot, path);
        if (!relative(packageRoot, target).startsWith("..") || !holdsProtos(target)) continue;
        found.push({
          file,
          ...positionOf(text, script, path),
          script,
          path,
          target: relative(repo.root, target).split("\\").join("/") || ".",
        });
      }
    }
  }
  return found;
}

function holdsProtos(target: string): boolean {
  if (!existsSync(target)) return false;
  if (statSync(target).isFile()) return target.endsWith(".proto");
  try {
    return readdirSync(target, { recursive: true, encoding: "utf8" }).some(
      (entry) => entry.endsWith(".proto") && !entry.split(/[\\/]/).includes("node_modules"),
    );
  } catch {
    return false;
  }
}

/** Where `path` appears in the script's value in the package.json text (1-based). */
function positionOf(text: string, script: string, path: string): { line: number; col: number } {
  const key = text.indexOf(`"${script}"`);
  const at = text.indexOf(path, Math.max(key, 0));
  const offset = at < 0 ? Math.max(key, 0) : at;
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: (before.at(-1)?.length ?? 0) + 1 };
}
