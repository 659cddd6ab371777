import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { UserError } from "@flow/errors";
import { type CommandContext, type CommandScope, openCommandContext, repoPath } from "./command-context";
import { type GenerateResult, regenerateCode } from "./package-generate";
import { parsePin, resolvePin } from "./pin";
import {
  hasManifest,
  MANIFEST_FILE,
  manifestPath,
  type PinManifest,
  readManifest,
  writeManifest,
} from "./pin-manifest";
import { formatAction } from "./vendor-command";
import { findManifestDirs, type VendorAction, vendorDir } from "./vendoring";

export interface PinCommandResult {
  actions: VendorAction[];
  generated: GenerateResult[];
  /** Set when a manifest line was added or replaced: [old spec or undefined, new spec]. */
  pinChange?: { dir: string; from?: string; to: string };
}

export interface AddCommandOptions extends CommandScope {
  /** The folder that will hold the pin manifest and `proto/` (a package or family folder). */
  dir: string;
  /** `<name>@<range>`, e.g. `event@^1`. */
  spec: string;
  /** Regenerate code afterwards (default true). */
  generate?: boolean;
}

/**
 * `flow proto add <dir> <name>@<range>`: pins a released contract in `dir`'s manifest (creating
 * it), vendors it into `dir/proto/<name>/v<major>` with git read-tree, locks it and regenerates
 * code. A pin of the same contract and major replaces the old one; another major goes beside it.
 */
export function runAddCommand(options: AddCommandOptions): PinCommandResult {
  const context = openCommandContext(options);
  const dir = repoPath(context, options.dir);
  if (!statSync(join(context.repo.root, dir)).isDirectory())
    throw new UserError(`${options.dir} is not a folder`);
  const where = posix.join(dir, MANIFEST_FILE);
  const pin = parsePin(options.spec, where);
  resolvePin(pin, context.ledger, where); // fail before touching anything

  const manifest: PinManifest = hasManifest(context.repo.root, dir)
    ? readManifest(context.repo.root, dir)
    : { dir, pins: [] };
  const replaced = manifest.pins.find(
    (existing) => existing.name === pin.name && existing.major === pin.major,
  );
  manifest.pins = replaced
    ? manifest.pins.map((existing) => (existing === replaced ? pin : existing))
    : [...manifest.pins, pin];
  const actions = withManifest(context, dir, manifest, () => vendorDir(context.repo, context.ledger, dir));
  return {
    actions,
    generated: regenerate(context, [dir], actions, options.generate),
    pinChange: { dir, ...(replaced ? { from: replaced.spec } : {}), to: pin.spec },
  };
}

export interface UpgradeCommandOptions extends CommandScope {
  /** A folder with a pin manifest, or a contract name when `name` is absent. */
  target?: string;
  name?: string;
  /** Replace vendored copies even when they were edited. */
  force?: boolean;
  generate?: boolean;
}

/**
 * `flow proto upgrade [dir] [name]`: moves pins (of one folder or all; of one contract or all) to
 * the highest release their ranges admit, re-vendors, rewrites the locks and regenerates code.
 */
export function runUpgradeCommand(options: UpgradeCommandOptions): PinCommandResult {
  const context = openCommandContext(options);
  let dir: string | undefined;
  let name = options.name;
  if (options.target !== undefined) {
    const asPath = repoPath(context, options.target, { mayBeMissing: true });
    if (hasManifest(context.repo.root, asPath)) dir = asPath;
    else if (options.name === undefined && context.ledger.names().includes(options.target))
      name = options.target;
    else if (existsSync(join(context.repo.root, asPath))) {
      throw new UserError(`${options.target}: no ${MANIFEST_FILE} there`, {
        hint: `pin a contract first: flow proto add ${options.target} <name>@<range>`,
      });
    } else {
      throw new UserError(
        `"${options.target}" is neither a folder with a ${MANIFEST_FILE} nor a released contract`,
        {
          hint: `released contracts: ${context.ledger.names().join(", ") || "none"}`,
        },
      );
    }
  }
  if (name !== undefined && !context.ledger.names().includes(name)) {
    throw new UserError(`no contract named "${name}" has been released`, {
      hint: `released contracts: ${context.ledger.names().join(", ") || "none"}`,
    });
  }
  const pinsName = (candidate: string) =>
    name === undefined || readManifest(context.repo.root, candidate).pins.some((pin) => pin.name === name);
  const dirs = (dir !== undefined ? [dir] : findManifestDirs(context.repo)).filter(pinsName);
  if (dirs.length === 0) {
    throw new UserError(
      `${dir !== undefined ? posix.join(dir, MANIFEST_FILE) : "no pin manifest"} does not pin ${name}`,
      {
        hint: `add it: flow proto add ${dir ?? "<dir>"} ${name}@^1`,
      },
    );
  }
  const actions = dirs.flatMap((each) =>
    vendorDir(context.repo, context.ledger, each, {
      upgrade: true,
      ...(name !== undefined ? { only: [name] } : {}),
      ...(options.force ? { force: true } : {}),
    }),
  );
  return { actions, generated: regenerate(context, dirs, actions, options.generate) };
}

/** Writes the manifest, runs `work`, and restores the old manifest if `work` fails. */
function withManifest<T>(context: CommandContext, dir: string, manifest: PinManifest, work: () => T): T {
  const file = manifestPath(context.repo.root, dir);
  const before = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  writeManifest(context.repo.root, manifest);
  try {
    return work();
  } catch (error) {
    if (before === undefined) rmSync(file, { force: true });
    else writeFileSync(file, before);
    throw error;
  }
}

function regenerate(
  context: CommandContext,
  dirs: string[],
  actions: VendorAction[],
  enabled = true,
): GenerateResult[] {
  if (!enabled) return [];
  const changed = dirs.filter((dir) =>
    actions.some((action) => action.dir === dir && action.action !== "unchanged"),
  );
  return changed.map((dir) => regenerateCode(context.repo.root, dir));
}

export function formatPinCommandResult(result: PinCommandResult): string[] {
  const lines: string[] = [];
  if (result.pinChange) {
    const { dir, from, to } = result.pinChange;
    lines.push(
      from && from !== to
        ? `pinned    ${to} in ${posix.join(dir, MANIFEST_FILE)} (was ${from})`
        : `pinned    ${to} in ${posix.join(dir, MANIFEST_FILE)}`,
    );
  }
  for (const action of result.actions) lines.push(formatAction(action));
  for (const generated of result.generated) {
    if (generated.command) lines.push(`generated ${generated.dir} (${generated.command})`);
  }
  return lines;
}
