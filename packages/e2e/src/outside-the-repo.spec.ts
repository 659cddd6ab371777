import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, relative, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { REPOSITORY_ROOT } from "./test-support/flow-cli";

// A service author outside this repository, as issue 12 asks: in a temporary folder, with the
// tarballs `pnpm pack` makes of Flow's packages and nothing else of the repository, they install
// the flow command, scaffold a service in its own repository (vendoring the contracts of a Flow
// release fetched from this repository), build it, run its test, and run a pipeline of a built-in
// source, the new processor and a built-in consumer.
//
// Offline: everything is installed from pnpm's store, which the repository's own install filled.
// npm cannot do this (its cache holds none of these packages: the repository installs with pnpm,
// and `npm install --offline` fails on the first one), nor can pnpm resolve version ranges without
// the registry's metadata, which it keeps only for a few packages. So each install gets a lockfile
// made from the repository's pnpm-lock.yaml: the tarballs, and exactly the versions of every other
// package the workspace installs and tests with, which pnpm then takes from its store.

const PNPM = join(REPOSITORY_ROOT, "node_modules", ".bin", "pnpm");

/** What is packed: the CLI, the SDK, what they need at run time, the test kit and two built-in services. */
const PACKED = [
  "@flow/errors",
  "@flow/sdk",
  "@flow/core",
  "@flow/prototools",
  "@flow/conformance",
  "@flow/cli",
  "@flow/testing",
  "@flow/source-generator",
  "@flow/consumer-file",
];

interface Lockfile {
  lockfileVersion: string;
  settings?: Record<string, unknown>;
  importers: Record<string, Record<string, Record<string, { specifier: string; version: string }>>>;
  packages: Record<string, Record<string, unknown>>;
  snapshots: Record<
    string,
    { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }
  >;
}

interface Tarball {
  name: string;
  /** Absolute path of the .tgz. */
  file: string;
  /** The workspace folder it was packed from, as the lockfile's importers name it. */
  importer: string;
  manifest: { version: string; bin?: unknown; engines?: Record<string, string> };
}

/** The workspace's folders by package name, from the lockfile's importers. */
function workspaceFolders(lock: Lockfile): Map<string, string> {
  const folders = new Map<string, string>();
  for (const importer of Object.keys(lock.importers)) {
    const manifest = join(REPOSITORY_ROOT, importer, "package.json");
    if (!existsSync(manifest)) continue;
    folders.set((JSON.parse(readFileSync(manifest, "utf8")) as { name: string }).name, importer);
  }
  return folders;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return `${result.stdout}${result.stderr}`;
}

/**
 * The environment of someone outside the repository: no PATH entry into it (pnpm puts the
 * workspace's node_modules/.bin there for this test run), no npm_/pnpm_ settings of this run.
 */
function outsideEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|INIT_CWD$|JEST_|TURBO_)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((entry) => isAbsolute(entry) && !`${entry}${sep}`.startsWith(`${REPOSITORY_ROOT}${sep}`))
    .join(delimiter);
  return env;
}

/** `file:<path of the tarball relative to the project>`, as package.json and the lockfile name it. */
function fileSpec(projectDir: string, tarball: Tarball): string {
  return `file:${relative(projectDir, tarball.file).split(sep).join("/")}`;
}

/**
 * A pnpm lockfile for the project at `projectDir` (its package.json already written): the Flow
 * tarballs by file and integrity, every other package at the version and with the snapshot the
 * repository's lockfile has for it, so `pnpm install --offline --frozen-lockfile` needs no
 * registry. A package the repository does not install cannot be installed offline: that is an
 * error naming it.
 */
function offlineLockfile(repoLock: Lockfile, projectDir: string, tarballs: Map<string, Tarball>): object {
  const manifest = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    pnpm?: { overrides?: Record<string, string> };
  };
  const packages: Record<string, unknown> = {};
  const snapshots: Record<string, unknown> = {};
  const queue: string[] = [];
  const keyOf = (name: string, version: string): string =>
    version.startsWith("file:") || /^\d/.test(version) ? `${name}@${version}` : version; // an alias: name@version

  const tarballVersion = (name: string): string => {
    const tarball = tarballs.get(name);
    if (!tarball) throw new Error(`${name} is a workspace package the installed ones need: pack it too`);
    return fileSpec(projectDir, tarball);
  };
  for (const tarball of tarballs.values()) {
    const spec = fileSpec(projectDir, tarball);
    const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball.file)).digest("base64")}`;
    packages[`${tarball.name}@${spec}`] = {
      resolution: { integrity, tarball: spec },
      version: tarball.manifest.version,
      ...(tarball.manifest.engines ? { engines: tarball.manifest.engines } : {}),
      ...(tarball.manifest.bin ? { hasBin: true } : {}),
    };
    const dependencies: Record<string, string> = {};
    const optionalDependencies: Record<string, string> = {};
    const importer = repoLock.importers[tarball.importer] ?? {};
    for (const [kind, into] of [
      ["dependencies", dependencies],
      ["optionalDependencies", optionalDependencies],
    ] as const) {
      for (const [name, { version }] of Object.entries(importer[kind] ?? {})) {
        into[name] = version.startsWith("link:") ? tarballVersion(name) : version;
        if (!version.startsWith("link:")) queue.push(keyOf(name, version));
      }
    }
    snapshots[`${tarball.name}@${spec}`] = {
      ...(Object.keys(dependencies).length > 0 ? { dependencies } : {}),
      ...(Object.keys(optionalDependencies).length > 0 ? { optionalDependencies } : {}),
    };
  }

  const direct: Record<string, Record<string, { specifier: string; version: string }>> = {};
  for (const kind of ["dependencies", "devDependencies"] as const) {
    for (const [name, specifier] of Object.entries(manifest[kind] ?? {})) {
      let version: string | undefined;
      if (tarballs.has(name)) version = tarballVersion(name);
      else {
        for (const importer of Object.values(repoLock.importers)) {
          for (const listed of Object.values(importer)) {
            const entry = listed[name];
            if (entry?.specifier === specifier && !entry.version.startsWith("link:")) version = entry.version;
          }
        }
        if (version === undefined) {
          throw new Error(
            `${name}@${specifier} (${kind} of ${projectDir}) is not installed by the repository, so it cannot be installed offline`,
          );
        }
        queue.push(keyOf(name, version));
      }
      direct[kind] = { ...direct[kind], [name]: { specifier, version } };
    }
  }

  while (queue.length > 0) {
    const key = queue.pop() as string;
    if (key in snapshots) continue;
    const snapshot = repoLock.snapshots[key];
    const resolved = repoLock.packages[key.replace(/\(.*$/, "")];
    if (!snapshot || !resolved) throw new Error(`the repository's lockfile has no ${key}`);
    snapshots[key] = snapshot;
    packages[key.replace(/\(.*$/, "")] = resolved;
    for (const [name, version] of [
      ...Object.entries(snapshot.dependencies ?? {}),
      ...Object.entries(snapshot.optionalDependencies ?? {}),
    ])
      queue.push(keyOf(name, version));
  }

  return {
    lockfileVersion: repoLock.lockfileVersion,
    settings: repoLock.settings,
    ...(manifest.pnpm?.overrides ? { overrides: manifest.pnpm.overrides } : {}),
    importers: { ".": direct },
    packages,
    snapshots,
  };
}

/**
 * Points every @flow dependency of the project's package.json (and, by pnpm overrides, of the
 * packages it installs) at the tarballs, as someone installing from tarballs would, then installs
 * offline with a lockfile made from the repository's.
 */
function installFromTarballs(
  repoLock: Lockfile,
  projectDir: string,
  tarballs: Map<string, Tarball>,
  env: NodeJS.ProcessEnv,
): void {
  const file = join(projectDir, "package.json");
  const manifest = JSON.parse(readFileSync(file, "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    pnpm?: Record<string, unknown>;
  };
  for (const kind of ["dependencies", "devDependencies"] as const) {
    for (const name of Object.keys(manifest[kind] ?? {})) {
      const tarball = tarballs.get(name);
      if (tarball && manifest[kind]) manifest[kind][name] = fileSpec(projectDir, tarball);
    }
  }
  const overrides = Object.fromEntries(
    [...tarballs.values()].map((tarball) => [tarball.name, fileSpec(projectDir, tarball)]),
  );
  manifest.pnpm = { ...manifest.pnpm, overrides };
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  // JSON is YAML: pnpm reads this lockfile as it reads its own.
  writeFileSync(
    join(projectDir, "pnpm-lock.yaml"),
    JSON.stringify(offlineLockfile(repoLock, projectDir, tarballs)),
  );
  run(PNPM, ["install", "--offline", "--frozen-lockfile", "--reporter=append-only"], projectDir, env);
}

describe("a service in its own repository, with Flow installed from packed tarballs", () => {
  const repoLock = parseYaml(readFileSync(join(REPOSITORY_ROOT, "pnpm-lock.yaml"), "utf8")) as Lockfile;
  const folders = workspaceFolders(repoLock);
  const env = outsideEnvironment();
  let top: string;
  beforeAll(() => {
    top = realpathSync(mkdtempSync(join(tmpdir(), "flow-outside-")));
  });
  afterAll(() => rmSync(top, { recursive: true, force: true }));

  it("scaffolds, builds, tests and runs the service in a pipeline with a built-in source and consumer", () => {
    expect(`${top}${sep}`.startsWith(`${REPOSITORY_ROOT}${sep}`)).toBe(false);

    // pnpm pack of each package: what a registry would serve, `workspace:*` turned into versions.
    const tarballs = new Map<string, Tarball>();
    mkdirSync(join(top, "tarballs"));
    for (const name of PACKED) {
      const importer = folders.get(name);
      if (!importer) throw new Error(`${name} is not a package of the workspace`);
      const before = new Set(readdirSync(join(top, "tarballs")));
      run(PNPM, ["pack", "--pack-destination", join(top, "tarballs")], join(REPOSITORY_ROOT, importer), env);
      const made = readdirSync(join(top, "tarballs")).find((entry) => !before.has(entry));
      if (!made) throw new Error(`pnpm pack of ${name} made no tarball`);
      const file = join(top, "tarballs", made);
      const manifest = JSON.parse(run("tar", ["-xzOf", file, "package/package.json"], top, env));
      tarballs.set(name, { name, file, importer, manifest });
    }

    // The flow command, installed from its tarball in a folder of its own.
    const tools = join(top, "tools");
    mkdirSync(tools);
    writeFileSync(
      join(tools, "package.json"),
      JSON.stringify({
        name: "tools",
        private: true,
        dependencies: { "@flow/cli": "*" },
        pnpm: { onlyBuiltDependencies: ["better-sqlite3"] },
      }),
    );
    installFromTarballs(repoLock, tools, tarballs, env);
    const flow = join(tools, "node_modules", ".bin", "flow");

    // flow new --standalone: a git repository of its own, contracts fetched from this repository.
    const scaffolded = run(
      flow,
      ["new", "processor", "upper", "--standalone", "../upper", "--flow-repo", REPOSITORY_ROOT],
      tools,
      env,
    );
    expect(scaffolded).toContain("created   ../upper (flow-processor-upper), a git repository of its own");
    expect(scaffolded).toMatch(
      /^vendored {2}proto\/processor_service\/v2 \(processor_service@\^2: 2\.\d+\.\d+\)$/m,
    );
    const upper = join(top, "upper");
    const ledger = readFileSync(join(upper, "proto-releases.yaml"), "utf8");
    const released = run("git", ["show", "HEAD:proto-releases.yaml"], REPOSITORY_ROOT, env);
    expect(ledger).toBe(released);

    // Its dependencies from the tarballs (@flow/sdk, the flow command, @flow/testing, the two
    // built-in services its pipeline.yaml uses) and Flow's build tools at Flow's versions.
    installFromTarballs(repoLock, upper, tarballs, env);
    for (const name of ["@flow/sdk", "@flow/cli", "@flow/source-generator", "@flow/consumer-file"]) {
      const installed = realpathSync(join(upper, "node_modules", ...name.split("/")));
      expect(`${installed}${sep}`.startsWith(`${top}${sep}`)).toBe(true);
    }

    // vendor --check, buf generate, tsc; then the generated test.
    run("npm", ["run", "build"], upper, env);
    expect(existsSync(join(upper, "src", "gen", "processor_service", "v2", "processor.ts"))).toBe(true);
    expect(existsSync(join(upper, "dist", "main.js"))).toBe(true);
    const tested = run("npm", ["test"], upper, env);
    expect(tested).toMatch(/Tests: +2 passed, 2 total/);

    // Its pipeline: the built-in generator (from node_modules) -> this processor (the package the
    // pipeline belongs to) -> the built-in file consumer (from node_modules).
    run(join(upper, "node_modules", ".bin", "flow"), ["run", "pipeline.yaml"], upper, env);
    const lines = readFileSync(join(upper, ".flow", "out.jsonl"), "utf8")
      .trim()
      .split("\n");
    const events = lines.map((line) => JSON.parse(line) as { id: string; type: string });
    expect(events).toHaveLength(100);
    expect(new Set(events.map((event) => event.type))).toEqual(new Set(["com.example.seen"]));
    expect(new Set(events.map((event) => event.id)).size).toBe(100);

    // A vendored copy edited by hand fails the build's first step, naming the file.
    const contract = join(upper, "proto", "processor_service", "v2", "processor.proto");
    writeFileSync(contract, `${readFileSync(contract, "utf8")}// edited\n`);
    const broken = spawnSync("npm", ["run", "build"], { cwd: upper, env, encoding: "utf8" });
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toMatch(
      /proto\/processor_service\/v2\/processor\.proto:\d+:\d+: edited in the vendored copy/,
    );
  }, 900_000);
});

describe("the packages meant to be installed", () => {
  const repoLock = parseYaml(readFileSync(join(REPOSITORY_ROOT, "pnpm-lock.yaml"), "utf8")) as Lockfile;
  const packages = [...workspaceFolders(repoLock).entries()].filter(([, importer]) => importer !== ".");
  const manifestOf = (importer: string) =>
    JSON.parse(readFileSync(join(REPOSITORY_ROOT, importer, "package.json"), "utf8")) as Record<
      string,
      unknown
    > & {
      private?: boolean;
      files?: string[];
      exports?: Record<string, unknown>;
      bin?: Record<string, string>;
    };

  it("are every package but the benchmarks and the end-to-end tests, under the repository's LICENSE", () => {
    const kept = packages
      .filter(([, importer]) => manifestOf(importer).private === true)
      .map(([name]) => name);
    expect(kept.sort()).toEqual(["@flow/bench", "@flow/e2e"]);
    expect(readFileSync(join(REPOSITORY_ROOT, "LICENSE"), "utf8")).toMatch(
      /^ +Apache License\n +Version 2\.0, January 2004\n/,
    );
  });

  it.each(packages.filter(([, importer]) => manifestOf(importer).private !== true))(
    "%s has a license, files, exports, and a bin if it is a service",
    (_name, importer) => {
      const manifest = manifestOf(importer);
      expect(manifest.license).toBe("Apache-2.0");
      expect(manifest.files).toEqual(expect.arrayContaining(["dist", "README.md"]));
      expect(manifest.exports).toEqual(
        expect.objectContaining({ ".": expect.anything(), "./package.json": "./package.json" }),
      );
      const isService = /^(sources|processors|consumers)\//.test(importer);
      if (isService) expect(Object.values(manifest.bin ?? {})).toEqual(["dist/main.js"]);
      // What a package reads at run time beside dist/ must be in the tarball.
      for (const folder of ["proto", "schema", "built-in"]) {
        if (existsSync(join(REPOSITORY_ROOT, importer, folder))) expect(manifest.files).toContain(folder);
      }
    },
  );
});
