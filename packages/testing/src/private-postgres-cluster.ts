import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./free-port";
import { type MachineRequirement, withMachineRequirement } from "./machine-requirement";

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL cluster of one test file's own, from the server binaries installed on the
 * machine: `initdb` into a temp folder, started on a free port with the settings the test needs
 * (the shared server's `wal_level=replica` cannot do logical replication), its unix socket in
 * the same folder. `stop()` stops it and removes the folder.
 */
export interface PrivatePostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** The temp folder: data directory, log and unix socket. */
  readonly dir: string;
  /** The URL of another database of the cluster. */
  urlOf(database: string): string;
  /**
   * A connected client (of `postgres`, or `database`), with an 'error' listener so that the
   * server going away fails its next query instead of the test process.
   */
  connect(database?: string): Promise<pg.Client>;
  /** Stops the server (fast shutdown) and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

/** Settings every private cluster gets: logical replication, and no fsync (nothing here must survive). */
const BASE_SETTINGS: Record<string, string> = {
  wal_level: "logical",
  max_wal_senders: "10",
  max_replication_slots: "10",
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
};

/** The folder of the newest installed server's binaries (Debian keeps each major's apart). */
function serverBinDir(): string | undefined {
  const fromEnv = process.env.FLOW_TEST_POSTGRES_BINDIR;
  if (fromEnv) return fromEnv;
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((entry) => existsSync(join(root, entry, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors[0] !== undefined) return join(root, majors[0], "bin");
  try {
    const dir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    return existsSync(join(dir, "initdb")) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** initdb and the server refuse to run as root: as root they run as this OS user. */
const SERVER_USER = "postgres";
const asRoot = (): boolean => process.getuid?.() === 0;

/** The command line for a server binary, under runuser when this process is root. */
function serverCommand(binDir: string, program: string, args: string[]): [string, string[]] {
  const path = join(binDir, program);
  return asRoot() ? ["runuser", ["-u", SERVER_USER, "--", path, ...args]] : [path, args];
}

/** Whether a private cluster can be started here, and if not, why. */
export function privatePostgresRequirement(): MachineRequirement {
  const binDir = serverBinDir();
  if (!binDir)
    return {
      available: false,
      reason: "no PostgreSQL server binaries (initdb) in /usr/lib/postgresql/*/bin or pg_config --bindir",
    };
  if (asRoot()) {
    try {
      execFileSync("id", ["-u", SERVER_USER], { stdio: "ignore" });
    } catch {
      return {
        available: false,
        reason: `running as root and there is no OS user ${SERVER_USER} to run initdb as`,
      };
    }
  }
  return { available: true };
}

/** Registers the tests `body` defines when a private cluster can be started; else a loud skip (a failure under CI=true). */
export function withPrivatePostgres(body: () => void): void {
  withMachineRequirement(
    "a private PostgreSQL cluster (initdb, pg_ctl)",
    privatePostgresRequirement(),
    "install the PostgreSQL server package (postgresql) or set FLOW_TEST_POSTGRES_BINDIR",
    body,
  );
}

/** A port the OS says is free now. */
interface ClusterFolder {
  binDir: string;
  dataDir: string;
  dir: string;
}

/** Stops the server at once if it runs (immediate shutdown), and removes the folder. */
function discard(cluster: ClusterFolder): void {
  running.delete(cluster);
  try {
    const [program, args] = serverCommand(cluster.binDir, "pg_ctl", [
      "-D",
      cluster.dataDir,
      "-m",
      "immediate",
      "-w",
      "stop",
    ]);
    execFileSync(program, args, { stdio: "ignore", timeout: 10_000 });
  } catch {}
  rmSync(cluster.dir, { recursive: true, force: true });
}

/** Clusters of this process still running: discarded at exit should a test file not get to it. */
const running = new Set<ClusterFolder>();
process.once("exit", () => {
  for (const cluster of running) discard(cluster);
});

/**
 * initdb, then pg_ctl start with `settings` beside the base ones (wal_level=logical...). Removes
 * the folder again when any step fails.
 */
export async function startPrivatePostgresCluster(
  options: { settings?: Record<string, string> } = {},
): Promise<PrivatePostgresCluster> {
  const binDir = serverBinDir();
  if (!binDir) throw new Error("no PostgreSQL server binaries found (see privatePostgresRequirement)");
  const dir = mkdtempSync(join(tmpdir(), "flow-private-postgres-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "server.log");
  const entry: ClusterFolder = { binDir, dataDir, dir };
  const exec = async (program: string, args: string[]): Promise<void> => {
    const [command, commandArgs] = serverCommand(binDir, program, args);
    await run(command, commandArgs, { timeout: 120_000 });
  };
  try {
    if (asRoot()) {
      const uid = Number(execFileSync("id", ["-u", SERVER_USER], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", SERVER_USER], { encoding: "utf8" }).trim());
      chownSync(dir, uid, gid);
    }
    await exec("initdb", [
      "-D",
      dataDir,
      "-A",
      "trust",
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    const port = await freePort();
    const settings = {
      ...BASE_SETTINGS,
      ...options.settings,
      port: String(port),
      listen_addresses: "127.0.0.1",
      unix_socket_directories: dir,
    };
    const serverOptions = Object.entries(settings)
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(" ");
    running.add(entry);
    await exec("pg_ctl", ["-D", dataDir, "-l", logFile, "-o", serverOptions, "-w", "-t", "60", "start"]);
    const urlOf = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
    let stopped: Promise<void> | undefined;
    return {
      url: urlOf("postgres"),
      port,
      dir,
      urlOf,
      async connect(database = "postgres") {
        const client = new pg.Client({ connectionString: urlOf(database) });
        client.on("error", () => undefined);
        await client.connect();
        return client;
      },
      stop() {
        stopped ??= (async () => {
          try {
            await exec("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
          } finally {
            running.delete(entry);
            rmSync(dir, { recursive: true, force: true });
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "";
    discard(entry);
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(
      `the private PostgreSQL cluster did not start: ${(error as Error).message}\n${stderr}${log}`,
    );
  }
}
