import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { runBuf } from "./buf-cli";
import { listContractFolders, rootOfRelease } from "./contract-catalog";
import { findForeignProtoScripts } from "./generate-script-lint";
import type { GitRepo } from "./git";
import { verifyLedger } from "./ledger-verification";
import { LINT_RULES, type LintRuleId, UNPARSABLE_RULE } from "./lint-rules";
import { LOCK_FILE } from "./pin-lock";
import { hasManifest, MANIFEST_FILE } from "./pin-manifest";
import {
  CONTRACT_NAME,
  type ContractPath,
  expectedFileNames,
  expectedPackage,
  isServiceName,
  locateInProtoRoot,
  parseContractPath,
} from "./proto-layout";
import { type ProtoOutline, parseProtoOutline } from "./proto-outline";
import { ProtoSyntaxError } from "./proto-tokenizer";
import { LEDGER_FILE, type ReleaseLedger } from "./release-ledger";
import { findDeletedContracts, restoreCommand } from "./released-deletions";
import { checkDir, findManifestDirs } from "./vendoring";

/** One finding: `file:line:col: rule: message`, and how to fix it. */
export interface LintFinding {
  /** Repository-relative. */
  file: string;
  line: number;
  col: number;
  rule: LintRuleId | typeof UNPARSABLE_RULE;
  message: string;
  hint: string;
}

export interface LintOptions {
  /** The package prefix: `package <prefix>.<name>.v<major>;`. */
  prefix: string;
  ledger: ReleaseLedger;
  /** Repository-relative files or folders to lint; everything when empty ("" is the whole repository). */
  paths?: readonly string[];
  /** Compile every proto root with buf to find files that do not parse (default true). */
  compile?: boolean;
}

export interface LintReport {
  /** Convention findings (exit 1). */
  findings: LintFinding[];
  /** Files that do not parse (exit 2): the input cannot be used. */
  unparsable: LintFinding[];
  /** The .proto files linted. */
  files: string[];
  /** The proto roots they sit in. */
  roots: string[];
}

export function formatLintFinding(finding: LintFinding): string {
  return `${finding.file}:${finding.line}:${finding.col}: ${finding.rule}: ${finding.message}\n  hint: ${finding.hint}`;
}

/** The folder name for protocol files that are not Flow contracts (see lintContracts). */
export const THIRD_PARTY = "third_party";

/** True when `file` is one of `paths` or lies below one ("" selects everything). */
export function isSelected(file: string, paths: readonly string[] | undefined): boolean {
  if (!paths || paths.length === 0) return true;
  return paths.some((path) => path === "" || file === path || file.startsWith(`${path}/`));
}

/**
 * Checks the contract conventions on every .proto file of the repository (or of `paths`): path
 * shape, package, syntax, service and data-type folders, imports, symlinks, and vendored copies
 * against their locks. Imports are judged from each file's own statements, so a missing import is
 * a finding, not a compile failure; what remains is compiled with buf to catch files that do not
 * parse, reported separately because the input then cannot be used.
 */
export function lintContracts(repo: GitRepo, options: LintOptions): LintReport {
  const findings: LintFinding[] = [];
  const unparsable: LintFinding[] = [];
  const listed = repo
    .run(["ls-files", "--cached", "--others", "--exclude-standard", "-z"])
    .split("\0")
    .filter((file) => file !== "" && isSelected(file, options.paths));
  const files: string[] = [];
  const outlines = new Map<string, ProtoOutline>();
  const rootsWithLinks = new Set<string>();
  // A vendored copy is where its lock says (a standalone service's package is the repository's
  // root, so its copies of the family contract sit in the root proto/): only originals are placed.
  const vendoredFiles = new Set(
    listContractFolders(repo)
      .filter((folder) => folder.vendored)
      .flatMap((folder) => folder.files),
  );

  for (const file of [...new Set(listed)].sort()) {
    // Other protocols' files kept as they are published (gRPC's health.proto for a service in
    // another language) follow their own layout, not Flow's contract conventions.
    if (file.split("/").includes(THIRD_PARTY)) continue;
    const absolute = join(repo.root, file);
    const isProto = file.endsWith(".proto");
    const location = locateInProtoRoot(file);
    if (!isProto && !location && !file.split("/").includes("proto")) continue;
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(absolute);
    } catch {
      continue; // deleted from the work tree but still in the index
    }
    if (stat.isSymbolicLink()) {
      if (isProto || file.split("/").includes("proto")) {
        findings.push(symlinkFinding(file, readlinkSync(absolute)));
        if (location) rootsWithLinks.add(location.root);
      }
      continue;
    }
    if (!isProto) continue;
    files.push(file);
    if (!location) {
      findings.push({
        file,
        line: 1,
        col: 1,
        rule: "path-shape",
        message: "is not inside a proto/ folder",
        hint: "move it to proto/<name>/v<major>/<name>.proto (shared types) or <package>/proto/<name>_service/v<major>/<name>.proto",
      });
      continue;
    }
    let outline: ProtoOutline;
    try {
      outline = parseProtoOutline(readFileSync(absolute, "utf8"));
    } catch (error) {
      if (!(error instanceof ProtoSyntaxError)) throw error;
      unparsable.push(parseFinding(file, error.line, error.col, error.message));
      continue;
    }
    outlines.set(file, outline);
    const path = parseContractPath(location.relative);
    checkSyntax(file, outline, findings);
    if (typeof path === "string") {
      findings.push({
        file,
        line: 1,
        col: 1,
        rule: "path-shape",
        message: path,
        hint: `move it to ${location.root}/<name>/v<major>/<name>.proto`,
      });
      continue;
    }
    if (!vendoredFiles.has(file)) checkServiceLocation(file, location.root, path, findings);
    checkFileName(file, path, findings);
    checkPackage(file, path, outline, options.prefix, findings);
    checkFolderKind(file, path, outline, findings);
    checkImports(repo.root, file, location.root, location.owner, path, outline, findings);
  }

  const roots = [
    ...new Set(files.map((file) => locateInProtoRoot(file)?.root).filter((root) => root !== undefined)),
  ];
  checkVendoredCopies(repo, options, findings);
  // A symlink is reported once, by the symlink rule, not again as a vendored copy that changed.
  const links = new Set(
    findings.filter((finding) => finding.rule === "symlink").map((finding) => finding.file),
  );
  for (let at = findings.length - 1; at >= 0; at--) {
    const finding = findings[at] as LintFinding;
    if (finding.rule === "vendored-copy" && links.has(finding.file)) findings.splice(at, 1);
  }
  checkDeletedReleases(repo, options, findings);
  checkHandCopies(repo, options, findings);
  checkGenerateScripts(repo, options, findings);
  checkLedger(repo, options, findings);
  if (options.compile !== false) {
    const excluded = new Set([...findings, ...unparsable].map((finding) => finding.file));
    for (const root of roots) {
      if (rootsWithLinks.has(root)) continue; // a compiler following links would report noise
      unparsable.push(...compileRoot(repo.root, root, files, excluded));
    }
  }
  const order = (a: LintFinding, b: LintFinding) =>
    compareText(a.file, b.file) || a.line - b.line || a.col - b.col;
  return { findings: findings.sort(order), unparsable: unparsable.sort(order), files, roots: roots.sort() };
}

function parseFinding(file: string, line: number, col: number, message: string): LintFinding {
  return {
    file,
    line,
    col,
    rule: UNPARSABLE_RULE,
    message,
    hint: "fix the protobuf syntax; the file cannot be used as it is",
  };
}

function symlinkFinding(file: string, target: string): LintFinding {
  return {
    file,
    line: 1,
    col: 1,
    rule: "symlink",
    message: `is a symlink (to ${target}); ${LINT_RULES.symlink}`,
    hint: "replace the link: vendor a released contract with flow proto add <dir> <name>@<range>, or keep the real file here",
  };
}

function checkSyntax(file: string, outline: ProtoOutline, findings: LintFinding[]): void {
  const hint = 'start the file with: syntax = "proto3";';
  if (outline.edition) {
    findings.push({
      ...at(file, outline.edition),
      rule: "syntax",
      message: `edition "${outline.edition.value}" is used; contracts are proto3`,
      hint,
    });
  } else if (!outline.syntax) {
    findings.push({
      file,
      line: 1,
      col: 1,
      rule: "syntax",
      message: "no syntax statement (that means proto2); contracts are proto3",
      hint,
    });
  } else if (outline.syntax.value !== "proto3") {
    findings.push({
      ...at(file, outline.syntax),
      rule: "syntax",
      message: `syntax is "${outline.syntax.value}"; contracts are proto3`,
      hint,
    });
  }
}

function checkServiceLocation(
  file: string,
  protoRoot: string,
  path: ContractPath,
  findings: LintFinding[],
): void {
  if (protoRoot !== "proto" || !isServiceName(path.dir)) return;
  const family = path.dir.slice(0, -"_service".length);
  findings.push({
    file,
    line: 1,
    col: 1,
    rule: "service-location",
    message: `service contract ${path.dir} is in the shared proto/ folder, which holds shared data types`,
    hint: `move it beside the services that implement it, e.g. ${family}s/proto/${path.dir}/v${path.major}/ (a family folder) or <package>/proto/${path.dir}/v${path.major}/`,
  });
}

/**
 * A folder of a contract released from another proto root that no lock vendors: a copy made by
 * hand, in a folder without pins or beside pinned copies. It is never verified against a tree id.
 */
function checkHandCopies(repo: GitRepo, options: LintOptions, findings: LintFinding[]): void {
  for (const folder of listContractFolders(repo)) {
    if (folder.vendored || !folder.files.some((file) => isSelected(file, options.paths))) continue;
    const releases = options.ledger.releasesOf(folder.name);
    if (releases.length === 0 || releases.some((release) => rootOfRelease(release.path) === folder.root))
      continue;
    const owner = posix.dirname(folder.root) === "." ? "" : posix.dirname(folder.root);
    const source = releases.at(-1)?.path;
    findings.push({
      file: folder.files[0] ?? folder.path,
      line: 1,
      col: 1,
      rule: "hand-copy",
      message: `${folder.path} is a copy of ${folder.name} (released from ${source}) that no pin vendors${hasManifest(repo.root, owner) ? ` (not in ${posix.join(owner, LOCK_FILE)})` : ` (${posix.join(owner, MANIFEST_FILE)} does not exist)`}`,
      hint: `vendor it instead: git rm -r -q ${folder.path} && flow proto add ${owner || "."} ${folder.name}@^${folder.major}`,
    });
  }
}

function checkGenerateScripts(repo: GitRepo, options: LintOptions, findings: LintFinding[]): void {
  for (const script of findForeignProtoScripts(repo)) {
    const dir = posix.dirname(script.file) === "." ? "" : posix.dirname(script.file);
    if (
      !isSelected(script.file, options.paths) &&
      !(options.paths ?? []).some((path) => path !== "" && isSelected(path, [dir]))
    )
      continue;
    findings.push({
      file: script.file,
      line: script.line,
      col: script.col,
      rule: "generate-source",
      message: `script "${script.script}" reads protos from ${script.target}, outside the package`,
      hint: `vendor what it needs into ${posix.join(dir, "proto")} (flow proto add ${dir || "."} <name>@<range>) and generate from there, e.g. buf generate proto`,
    });
  }
}

function checkFileName(file: string, path: ContractPath, findings: LintFinding[]): void {
  const allowed = expectedFileNames(path.dir);
  if (allowed.includes(path.file)) return;
  findings.push({
    file,
    line: 1,
    col: 1,
    rule: "file-name",
    message: `file "${path.file}.proto" in folder "${path.dir}" should be ${allowed.map((name) => `"${name}.proto"`).join(" or ")}`,
    hint: `rename it to ${posix.join(posix.dirname(file), `${allowed[0]}.proto`)}`,
  });
}

function checkPackage(
  file: string,
  path: ContractPath,
  outline: ProtoOutline,
  prefix: string,
  findings: LintFinding[],
): void {
  const expected = expectedPackage(prefix, path.dir, path.major);
  if (!outline.package) {
    const after = outline.syntax ?? { line: 1, col: 1 };
    findings.push({
      file,
      line: after.line,
      col: after.col,
      rule: "package",
      message: `no package statement; the path says package ${expected}`,
      hint: `add: package ${expected};`,
    });
  } else if (outline.package.name !== expected) {
    const majorOnly = outline.package.name.replace(/\.v[0-9]+$/, "") === `${prefix}.${path.dir}`;
    findings.push({
      ...at(file, outline.package),
      rule: "package",
      message: `package ${outline.package.name} does not agree with the path: expected ${expected}${majorOnly ? " (the major differs)" : ""}`,
      hint: `write: package ${expected};`,
    });
  }
}

function checkFolderKind(
  file: string,
  path: ContractPath,
  outline: ProtoOutline,
  findings: LintFinding[],
): void {
  const services = outline.definitions.filter((definition) => definition.kind === "service");
  if (isServiceName(path.dir) && services.length === 0) {
    findings.push({
      file,
      line: 1,
      col: 1,
      rule: "folder-kind",
      message: `folder "${path.dir}" ends in _service but the file declares no service`,
      hint: `a data type lives in a folder without the suffix: move it to ${path.dir.slice(0, -"_service".length)}/v${path.major}/`,
    });
  }
  if (!isServiceName(path.dir)) {
    for (const service of services) {
      findings.push({
        ...at(file, service),
        rule: "folder-kind",
        message: `service ${service.name} is declared in the data-type folder "${path.dir}"`,
        hint: `service contracts live in a folder ending in _service: move it to ${path.dir}_service/v${path.major}/${path.dir}.proto (and its package)`,
      });
    }
  }
}

function checkImports(
  root: string,
  file: string,
  protoRoot: string,
  owner: string,
  path: ContractPath,
  outline: ProtoOutline,
  findings: LintFinding[],
): void {
  for (const imported of outline.imports) {
    if (!isServiceName(path.dir)) {
      findings.push({
        ...at(file, imported),
        rule: "data-type-import",
        message: `shared data type imports "${imported.path}"; shared data types import nothing`,
        hint: "define what the type needs in this file, or make it a service contract in a _service folder",
      });
      continue;
    }
    const match = /^([^/]+)\/v([1-9][0-9]*)\/([^/]+)\.proto$/.exec(imported.path);
    const [, name = "", major = "", fileName = ""] = match ?? [];
    if (!match || !CONTRACT_NAME.test(name) || !expectedFileNames(name).includes(fileName)) {
      findings.push({
        ...at(file, imported),
        rule: "import-path",
        message: `import "${imported.path}" is not a versioned shared type path <name>/v<major>/<name>.proto`,
        hint: 'import shared types by their versioned path, e.g. import "event/v1/event.proto";',
      });
      continue;
    }
    if (isServiceName(name)) {
      findings.push({
        ...at(file, imported),
        rule: "import-path",
        message: `import "${imported.path}" is a service contract; a service file imports only shared data types`,
        hint: "move the shared messages into a data-type contract and import that",
      });
      continue;
    }
    if (imported.modifier) {
      findings.push({
        ...at(file, imported),
        rule: "import-path",
        message: `import ${imported.modifier} "${imported.path}": contracts use plain imports`,
        hint: `write: import "${imported.path}";`,
      });
    }
    const target = join(root, protoRoot, imported.path);
    if (!existsSync(target) || !statSync(target).isFile()) {
      const manifestDir = owner === "" ? "." : owner;
      findings.push({
        ...at(file, imported),
        rule: "import-unresolved",
        message: `import "${imported.path}" does not resolve inside ${protoRoot}/`,
        hint: hasManifest(root, owner)
          ? `vendor it beside the file: flow proto add ${manifestDir} ${name}@^${major}`
          : `vendor the released contract into ${protoRoot}/: flow proto add ${manifestDir} ${name}@^${major}`,
      });
    }
  }
}

function checkVendoredCopies(repo: GitRepo, options: LintOptions, findings: LintFinding[]): void {
  for (const dir of findManifestDirs(repo)) {
    const protoRoot = posix.join(dir, "proto");
    const selected =
      !options.paths ||
      options.paths.length === 0 ||
      options.paths.some(
        (path) =>
          isSelected(dir, [path]) ||
          isSelected(path, [protoRoot, posix.join(dir, MANIFEST_FILE), posix.join(dir, LOCK_FILE)]),
      );
    if (!selected) continue;
    for (const finding of checkDir(repo, options.ledger, dir)) {
      findings.push({
        file: finding.file,
        line: finding.line ?? 1,
        col: finding.col ?? 1,
        rule: "vendored-copy",
        message: finding.message,
        hint: finding.fix,
      });
    }
  }
}

function checkLedger(repo: GitRepo, options: LintOptions, findings: LintFinding[]): void {
  for (const finding of verifyLedger(repo, options.ledger).findings) {
    if (!isSelected(LEDGER_FILE, options.paths) && !isSelected(finding.release.path, options.paths)) continue;
    findings.push({
      file: finding.file,
      line: finding.line,
      col: finding.col,
      rule: "release-ledger",
      message: finding.message,
      hint: finding.hint,
    });
  }
}

function checkDeletedReleases(repo: GitRepo, options: LintOptions, findings: LintFinding[]): void {
  for (const gone of findDeletedContracts(repo, options.ledger)) {
    const file = gone.files[0] ?? gone.release.path;
    if (!isSelected(file, options.paths) && !isSelected(LEDGER_FILE, options.paths)) continue;
    findings.push({
      file,
      line: 1,
      col: 1,
      rule: "released-deleted",
      message: `${gone.name} v${gone.major} is released (${gone.release.version}) but ${gone.release.path} was deleted; ${LINT_RULES["released-deleted"]}`,
      hint: `restore it: ${restoreCommand(repo, gone.release)}`,
    });
  }
}

/**
 * Compiles one proto root with buf, leaving out the files with convention findings (a `cp -r v1
 * v2` copy still declaring v1's package would make buf blame the untouched v1 for declaring
 * everything twice); reports errors in the linted files.
 */
function compileRoot(
  repoRoot: string,
  protoRoot: string,
  files: readonly string[],
  excluded: ReadonlySet<string>,
): LintFinding[] {
  const left = [...excluded]
    .filter((file) => file.startsWith(`${protoRoot}/`) && file.endsWith(".proto"))
    .flatMap((file) => ["--exclude-path", posix.relative(protoRoot, file)]);
  const report = (file: string) => files.includes(file) && !excluded.has(file);
  if (!files.some((file) => file.startsWith(`${protoRoot}/`) && !excluded.has(file))) return [];
  const run = runBuf(
    ["build", ".", "--output", process.platform === "win32" ? "NUL" : "/dev/null", ...left],
    join(repoRoot, protoRoot),
  );
  if (run.status === 0) return [];
  const found: LintFinding[] = [];
  for (const diagnostic of run.diagnostics) {
    const file = diagnostic.path ? posix.join(protoRoot, diagnostic.path) : protoRoot;
    if (diagnostic.path && !report(file)) continue;
    found.push(parseFinding(file, diagnostic.line, diagnostic.col, diagnostic.message));
  }
  if (run.diagnostics.length === 0) {
    found.push(
      parseFinding(protoRoot, 1, 1, `buf could not compile the folder: ${run.otherOutput.join(" ")}`),
    );
  }
  return found;
}

/** Code-point order: the same on every machine, unlike localeCompare. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function at(
  file: string,
  position: { line: number; col: number },
): { file: string; line: number; col: number } {
  return { file, line: position.line, col: position.col };
}
