import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConformConfig, type Placeholders, substitute } from "./conform-config";

/**
 * One scenario's world: a fresh `${RUN}` id, a `${TMP}` folder and a free `${PORT}`, the config
 * with them filled in, and its setup run; `close` runs the teardown and removes the folder.
 */
export interface Scenario {
  placeholders: Placeholders;
  config: ConformConfig;
  close(): Promise<void>;
}

export async function openScenario(raw: ConformConfig): Promise<Scenario> {
  const placeholders: Placeholders = {
    RUN: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    TMP: mkdtempSync(join(tmpdir(), "flow-conform-")),
    PORT: String(await freePort()),
  };
  const config = substitute(raw, placeholders);
  const close = async (): Promise<void> => {
    try {
      if (config.teardown) await runShell(config.teardown, "", config.env);
    } finally {
      rmSync(placeholders.TMP, { recursive: true, force: true });
    }
  };
  if (config.setup) {
    const result = await runShell(config.setup, "", config.env);
    if (result.code !== 0) {
      await close();
      throw new Error(
        `setup \`${config.setup}\` failed (exit ${result.code}): ${result.stderr.trim().split("\n").at(-1) ?? ""}`,
      );
    }
  }
  return { placeholders, config, close };
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

/** Runs `sh -c command` with `input` on stdin. */
export function runShell(
  command: string,
  input: string,
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", (error) => resolve({ code: 127, stderr: error.message }));
    child.once("exit", (code) => resolve({ code: code ?? 1, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}
