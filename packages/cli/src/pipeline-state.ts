import { type Dirent, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import {
  DEFAULT_STATE_STORE_URL,
  FLOW_CLI,
  loadPipeline,
  openStateStore,
  parsePipeline,
  parseStateStoreUrl,
  type StateStore,
  type StateStoreLocation,
} from "@flow/core";
import { UserError } from "@flow/errors";

export interface StateOptions {
  /** A state store URL (sqlite:<path> or postgres://...). */
  state?: string;
  /** A pipeline file whose `state` to use. */
  file?: string;
}

/** The store a command reads, before it is opened. */
export interface StateTarget {
  url: string | undefined;
  baseDir: string;
  location: StateStoreLocation;
  /** How messages name the store: a SQLite path relative to the current folder, a masked URL. */
  where: string;
  /** The pipeline a file named (with `-f`, or a file given as the pipeline argument). */
  pipeline?: string;
  /** The file the pipeline came from, as the user wrote it. */
  file?: string;
}

/**
 * The state store a command reads: `--state <url>`, else the one a pipeline file names (`-f
 * pipeline.yaml`, or a file given where a pipeline name goes), else the embedded default in the
 * current folder. `pipelineArgument` is the command's `[pipeline]` argument: a name, or a file.
 */
export function stateTarget(
  options: StateOptions,
  pipelineArgument?: string,
): StateTarget & { name: string | undefined } {
  const argumentIsFile = pipelineArgument !== undefined && isPipelineFile(pipelineArgument);
  const file = options.file ?? (argumentIsFile ? pipelineArgument : undefined);
  if (options.file && argumentIsFile)
    throw new UserError(`give the pipeline file once: -f ${options.file} or ${pipelineArgument}`);
  const name = argumentIsFile ? undefined : pipelineArgument;
  if (options.state) {
    const baseDir = process.cwd();
    const fromFile = file ? loadPipeline(resolve(file)).name : undefined;
    return {
      ...located(options.state, baseDir),
      ...(fromFile ? { pipeline: fromFile, file } : {}),
      name: name ?? fromFile,
    };
  }
  if (file) {
    const pipeline = loadPipeline(resolve(file));
    return {
      ...located(pipeline.state.url, pipeline.baseDir),
      pipeline: pipeline.name,
      file,
      name: name ?? pipeline.name,
    };
  }
  return { ...located(undefined, process.cwd()), name };
}

/**
 * Opens the store to read it, never creating one just to look: a SQLite file that does not exist
 * gives undefined (nothing has run with it).
 */
export async function openExistingState(target: StateTarget): Promise<StateStore | undefined> {
  const { location } = target;
  if (location.kind === "sqlite" && location.file !== ":memory:" && !existsSync(location.file))
    return undefined;
  return openStateStore(target.url, { baseDir: target.baseDir });
}

/**
 * The store for commands that write to it (`registry serve`) or read it in passing (`describe
 * registry:`): created when missing, as `flow run` does.
 */
export async function openCommandState(
  options: StateOptions,
): Promise<{ store: StateStore; pipeline?: string; where: string }> {
  const target = stateTarget(options);
  return {
    store: await openStateStore(target.url, { baseDir: target.baseDir }),
    where: target.where,
    ...(target.pipeline ? { pipeline: target.pipeline } : {}),
  };
}

/**
 * A pipeline named on the command line (not through its file) that this store has never seen
 * is most likely looked up in the wrong store: refused, naming the store and the way to the right
 * one. A pipeline named by its file is read from the store that file names, seen or not.
 */
export async function checkPipelineKnown(
  store: StateStore | undefined,
  target: StateTarget & { name: string | undefined },
  command: string,
): Promise<void> {
  const { name } = target;
  if (name === undefined || target.pipeline === name) return;
  if (store) {
    const [run] = await store.listRuns({ pipeline: name, limit: 1 });
    if (run) return;
    if ((await store.listCheckpoints(name)).length > 0) return;
  }
  const known = store ? [...new Set((await store.listRuns({ limit: 1000 })).map((r) => r.pipeline))] : [];
  const files = pipelineFilesNamed(name, process.cwd());
  const suggestion =
    files.length > 0
      ? `${files.map((file) => `${FLOW_CLI} ${command} -f ${file}`).join(", or ")} (the store its state.url names)`
      : `name its pipeline file: ${FLOW_CLI} ${command} -f <pipeline.yaml> (the store its state.url names), or the store: --state <url>`;
  throw new UserError(
    `pipeline "${name}" has never run with the state store ${target.where}${store ? "" : " (there is no such store yet)"}`,
    {
      hint: `${suggestion}${known.length > 0 ? `; pipelines in ${target.where}: ${known.sort().join(", ")}` : ""}`,
    },
  );
}

function located(url: string | undefined, baseDir: string): StateTarget {
  const location = parseStateStoreUrl(url ?? DEFAULT_STATE_STORE_URL, baseDir);
  return { url, baseDir, location, where: describeLocation(location) };
}

function describeLocation(location: StateStoreLocation): string {
  if (location.kind === "postgres") return location.display;
  if (location.file === ":memory:") return "sqlite::memory:";
  const shown = relative(process.cwd(), location.file);
  return shown && !shown.startsWith("..") && !isAbsolute(shown) ? shown : location.file;
}

/** `examples/quickstart.yaml` given where a pipeline name goes. */
function isPipelineFile(argument: string): boolean {
  if (/\.ya?ml$/i.test(argument)) return true;
  return argument.includes("/") && existsSync(argument) && statSync(argument).isFile();
}

/**
 * Pipeline files in `dir` and the folders just below it (not node_modules or hidden ones) whose
 * metadata.name is `name`, as paths relative to `dir`: where a user who typed the name probably
 * meant to look.
 */
function pipelineFilesNamed(name: string, dir: string, depth = 2): string[] {
  const found: string[] = [];
  const visit = (folder: string, level: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (level < depth && !entry.name.startsWith(".") && entry.name !== "node_modules")
          visit(path, level + 1);
      } else if (/\.ya?ml$/i.test(entry.name)) {
        try {
          const text = readFileSync(path, "utf8");
          if (/^apiVersion:\s*flow\/v1\s*$/m.test(text) && parsePipeline(text, { file: path }).name === name)
            found.push(relative(dir, path));
        } catch {
          // not a pipeline file, or one with problems: not a suggestion
        }
      }
    }
  };
  visit(dir, 0);
  return found.sort();
}
