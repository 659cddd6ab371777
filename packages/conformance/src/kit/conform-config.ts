import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "@flow/errors";

/**
 * What the kit needs to know about a service that Describe cannot tell it: a config that works,
 * events to send, how to feed its external system. A JSON file: `conform.json` in the service's
 * package (found for `use:`), or any file given with `--config`. docs/any-language.md and this
 * package's README describe every field.
 *
 * Strings may hold `${RUN}` (a fresh lower-case id per scenario, for names of tables, streams,
 * queues), `${TMP}` (a folder the kit creates for the scenario and removes), `${PORT}` (a free
 * TCP port, the same across the restarts of one scenario; a string that is only `${PORT}` becomes
 * the number) and `${CONFIG_DIR}` (the folder of the conformance config, for scripts kept beside
 * it). Shell commands run in the service's folder: its package for `use:`, the command's folder
 * for `--command`.
 */
export interface ConformConfig {
  /** A configuration the service must accept (validate_only) and run with. Default `{}`. */
  config: unknown;
  /** A configuration the service must refuse. Default: derived from the declared JSON Schema. */
  invalidConfig?: unknown;
  /** Processors and consumers: events to send (each as in `EventSpec`). Default: one JSON event. */
  events: EventSpec[];
  /** Events the service must turn into dead letters (processor) or a permanent failure (consumer). */
  badEvents: EventSpec[];
  /** Processors: events come out byte for byte as they went in (default true; false for a transform). */
  passThrough: boolean;
  /** Sources: how many events the data-plane and crash checks read, and how they get into the system. */
  source: { events: number; feed?: FeedSpec };
  /** Shell commands run before and after each scenario (create and drop a table, a stream...). */
  setup?: string;
  teardown?: string;
  /**
   * A shell command that runs for the whole scenario, e.g. the HTTP endpoint a consumer writes
   * to: started after `setup`, ready once it writes a line on stdout, stopped before `teardown`.
   */
  server?: string;
  /** Extra environment for the service process. */
  env: Record<string, string>;
  /** Run the crash-consistency checks (default: true when the kit starts the service). */
  crash: boolean;
  /** Where the config came from, for messages. */
  origin: string;
  /** The folder of the config file (`${CONFIG_DIR}`), when it came from one. */
  dir?: string;
}

/**
 * A sample event. `data` is JSON (sent as application/json), `dataText` is sent as it is; `id`
 * defaults to a fresh one per event.
 */
export interface EventSpec {
  id?: string;
  source?: string;
  type?: string;
  subject?: string;
  datacontenttype?: string;
  data?: unknown;
  dataText?: string;
}

/**
 * How a source's system gets events: a shell command that reads one key per line on stdin and
 * makes each key one event whose payload contains it (e.g. publishes `{"key":"<key>"}`), run
 * once the source reads. The kit recognises an event by the key in its data, id or subject.
 */
export interface FeedSpec {
  command: string;
}

const FIELDS = new Set([
  "$comment",
  "config",
  "invalidConfig",
  "events",
  "badEvents",
  "passThrough",
  "source",
  "setup",
  "teardown",
  "server",
  "env",
  "crash",
]);

/** The config a run uses: `--config` if given, else `conform.json` in the package, else the built-in one, else defaults. */
export function loadConformConfig(options: {
  configPath?: string;
  packageDir?: string;
  packageName?: string;
}): ConformConfig {
  const candidates = [
    options.configPath,
    options.packageDir && join(options.packageDir, "conform.json"),
    options.packageName && builtInConfigPath(options.packageName),
  ].filter((path): path is string => typeof path === "string");
  for (const path of candidates) {
    if (path === options.configPath || existsSync(path))
      return parseConformConfig(readConfigFile(path), path, dirname(path));
  }
  return parseConformConfig({}, "defaults (no conform.json: pass --config)");
}

/** Conformance configs of the repository's built-in services, kept with the kit until each package carries its own. */
export function builtInConfigPath(packageName: string): string {
  return join(__dirname, "..", "..", "built-in", `${packageName.replace(/^@flow\//, "")}.json`);
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UserError(`--config ${path}: cannot read it (${(error as NodeJS.ErrnoException).code})`, {
      hint: 'name a JSON file (see docs/any-language.md, "The conformance kit")',
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path}: not valid JSON: ${(error as Error).message}`, {
      hint: "the conformance config is a JSON object (see docs/any-language.md)",
    });
  }
}

export function parseConformConfig(value: unknown, origin: string, dir?: string): ConformConfig {
  const problem = (where: string, what: string): UserError =>
    new UserError(`${origin}: ${where}: ${what}`, {
      hint: 'see docs/any-language.md, "The conformance kit"',
    });
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw problem("/", "expected a JSON object");
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!FIELDS.has(key)) throw problem(`/${key}`, `unknown field (known: ${[...FIELDS].join(", ")})`);
  const events = (key: string): EventSpec[] => {
    const list = record[key] ?? [];
    if (!Array.isArray(list) || list.some((item) => typeof item !== "object" || item === null))
      throw problem(`/${key}`, "expected an array of event objects");
    return list as EventSpec[];
  };
  const source = (record.source ?? {}) as { events?: unknown; feed?: unknown };
  if (source.events !== undefined && !(Number.isInteger(source.events) && (source.events as number) > 0))
    throw problem("/source/events", "expected a positive whole number");
  const feed = source.feed as FeedSpec | undefined;
  if (feed !== undefined && typeof feed.command !== "string")
    throw problem("/source/feed/command", "expected a shell command");
  for (const key of ["setup", "teardown", "server"] as const)
    if (record[key] !== undefined && typeof record[key] !== "string")
      throw problem(`/${key}`, "expected a shell command");
  const given = events("events");
  return {
    config: record.config ?? {},
    invalidConfig: record.invalidConfig,
    events:
      given.length > 0
        ? given
        : [{ type: "com.example.conform", source: "/flow/conform", data: { n: 1, text: "conform" } }],
    badEvents: events("badEvents"),
    passThrough: record.passThrough !== false,
    source: { events: (source.events as number | undefined) ?? 40, feed },
    setup: record.setup as string | undefined,
    teardown: record.teardown as string | undefined,
    server: record.server as string | undefined,
    env: (record.env ?? {}) as Record<string, string>,
    crash: record.crash !== false,
    origin,
    dir,
  };
}

/** Values of `${RUN}`, `${TMP}`, `${PORT}` and `${CONFIG_DIR}` for one scenario. */
export interface Placeholders {
  RUN: string;
  TMP: string;
  PORT: string;
  CONFIG_DIR: string;
}

const PORT_ALONE = ["$", "{PORT}"].join("");

/**
 * `value` with every placeholder in its strings replaced (deeply, keys left alone). A string that
 * is exactly `${PORT}` becomes the port as a number, for a config whose schema wants an integer.
 */
export function substitute<T>(value: T, placeholders: Placeholders): T {
  if (value === PORT_ALONE) return Number(placeholders.PORT) as T;
  if (typeof value === "string")
    return value.replace(
      /\$\{(RUN|TMP|PORT|CONFIG_DIR)\}/g,
      (_match, name: keyof Placeholders) => placeholders[name],
    ) as T;
  if (Array.isArray(value)) return value.map((item) => substitute(item, placeholders)) as T;
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, placeholders)]),
    ) as T;
  return value;
}
