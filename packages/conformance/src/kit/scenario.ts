import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConformConfig, type Placeholders, substitute } from "./conform-config";
import { lastLine, type ShellOutcome, type ShellRun, startShell } from "./shell-command";

/**
 * One scenario's world: a fresh `${RUN}` id, a `${TMP}` folder and a free `${PORT}`, the config
 * with them filled in, its setup run and its server started; `close` stops the server and any
 * feed still running, runs the teardown and removes the folder.
 */
export interface Scenario {
  placeholders: Placeholders;
  config: ConformConfig;
  /** Starts one of the config's shell commands in the service's folder, with its env. */
  shell(command: string, input?: string): ShellRun;
  close(): Promise<void>;
}

/** How long a scenario's server may take to say it is ready. */
const SERVER_READY_MS = 30_000;

/** `cwd`: the service's folder, where the config's shell commands run. */
export async function openScenario(raw: ConformConfig, cwd: string): Promise<Scenario> {
  const placeholders: Placeholders = {
    RUN: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    TMP: mkdtempSync(join(tmpdir(), "flow-conform-")),
    PORT: String(await freePort()),
    CONFIG_DIR: raw.dir ?? cwd,
  };
  const config = substitute(raw, placeholders);
  // Whatever the scenario started is stopped when it closes, a check that threw included.
  const started = new Set<ShellRun>();
  const shell = (command: string, input?: string): ShellRun => {
    const run = startShell(command, { input, cwd, env: config.env });
    started.add(run);
    void run.done.then(() => started.delete(run));
    return run;
  };
  let server: ShellRun | undefined;
  const close = async (): Promise<void> => {
    try {
      await Promise.all([...started].map((run) => run.stop()));
      if (config.teardown) await shell(config.teardown).done;
    } finally {
      rmSync(placeholders.TMP, { recursive: true, force: true });
    }
  };
  const failed = async (what: string, command: string, outcome?: ShellOutcome): Promise<never> => {
    await close();
    throw new Error(
      `${what} \`${command}\` ${outcome ? `failed (exit ${outcome.code}): ${lastLine(outcome.stderr)}` : `wrote no line within ${SERVER_READY_MS} ms`}`,
    );
  };
  if (config.setup) {
    const outcome = await shell(config.setup).done;
    if (outcome.code !== 0) await failed("setup", config.setup, outcome);
  }
  if (config.server) {
    server = shell(config.server);
    const ready = await server.firstLine(SERVER_READY_MS);
    if (ready === undefined) {
      const outcome = await server.stop();
      await failed("server", config.server, outcome.stopped ? undefined : outcome);
    }
  }
  return { placeholders, config, shell, close };
}

/** A port the OS says is free now (for a service that listens where its config says). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
