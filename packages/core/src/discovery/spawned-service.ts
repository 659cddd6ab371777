import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { UserError } from "@flow/errors";
import { backoffDelayMs, type Handshake, isHandshakeLine, parseHandshake } from "@flow/sdk/internal";
import type { Logger } from "pino";
import { ALL_CORE_MAJORS } from "../clients/family-contracts";
import type { RestartSettings } from "../config/pipeline-model";

export interface SpawnSpec {
  stageId: string;
  /** Program and arguments. */
  argv: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  handshakeTimeoutMs: number;
  restart: RestartSettings;
  logger: Logger;
  /**
   * How Core asks the service to listen: "unix" sets FLOW_LISTEN=unix:<socket in a folder of its
   * own>, which an SDK service honours; a service that ignores it answers with a tcp handshake,
   * and that is what gets dialled. Default: {@link spawnNetwork} of Core's environment.
   */
  network?: SpawnNetwork;
  /**
   * The contract majors Core will speak with the service, told to it in FLOW_CONTRACT_MAJORS (an
   * SDK service serves those of its own and names the highest both speak in its handshake; a
   * service that ignores the variable names its own). Default: every major Core speaks.
   */
  contractMajors?: readonly number[];
}

const STDERR_TAIL_LINES = 20;

/** How spawned services are asked to listen (FLOW_SPAWN_NETWORK in Core's environment). */
export type SpawnNetwork = "unix" | "tcp";

export const SPAWN_NETWORK_ENV = "FLOW_SPAWN_NETWORK";
/** The variable a service reads its listen address from (the SDK's listen-address.ts). */
const LISTEN_ENV = "FLOW_LISTEN";
/** The variable that tells a spawned service the contract majors Core speaks with it: `1,2`. */
export const CONTRACT_MAJORS_ENV = "FLOW_CONTRACT_MAJORS";
export const DEFAULT_SPAWN_NETWORK: SpawnNetwork = "tcp";
/** A socket path longer than this does not fit sockaddr_un (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

/** FLOW_SPAWN_NETWORK: `unix` or `tcp`; unset, the default. */
export function spawnNetwork(env: NodeJS.ProcessEnv = process.env): SpawnNetwork {
  const value = env[SPAWN_NETWORK_ENV];
  if (value === undefined || value === "") return DEFAULT_SPAWN_NETWORK;
  if (value === "unix" || value === "tcp") return value;
  throw new UserError(`${SPAWN_NETWORK_ENV}: found "${value}", expected unix or tcp`, {
    hint: `unset it for the default (${DEFAULT_SPAWN_NETWORK})`,
  });
}

/** Socket folders still on disk; removed when Core exits, however a run ended. */
const socketFolders = new Set<string>();
let removesFoldersOnExit = false;

function removeSocketFolder(folder: string): void {
  rmSync(folder, { recursive: true, force: true });
  socketFolders.delete(folder);
}

/**
 * A new folder only Core can enter (mkdtemp makes it 0700) for one service's socket, named
 * after the stage; undefined when the temp folder's path is too long for a socket.
 */
function newSocketPath(stageId: string): { folder: string; path: string } | undefined {
  const folder = mkdtempSync(join(tmpdir(), "flow-"));
  socketFolders.add(folder);
  if (!removesFoldersOnExit) {
    removesFoldersOnExit = true;
    process.once("exit", () => {
      for (const left of socketFolders) removeSocketFolder(left);
    });
  }
  const name = stageId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40) || "service";
  const path = join(folder, `${name}.sock`);
  if (path.length <= MAX_SOCKET_PATH) return { folder, path };
  const short = join(folder, "s.sock");
  if (short.length <= MAX_SOCKET_PATH) return { folder, path: short };
  removeSocketFolder(folder);
  return undefined;
}

/**
 * A service process Core started: it waits for the handshake line, forwards the service's stderr
 * into Core's log under the stage id, restarts the process with exponential backoff when it dies
 * (up to a limit), and stops it with SIGTERM, then SIGKILL after a grace period.
 *
 * Events: "restarted" (count, reason).
 */
export class SpawnedService extends EventEmitter {
  private child: ChildProcess | undefined;
  private handshake: Handshake | undefined;
  private readonly stderrTail: string[] = [];
  private stopping = false;
  /** The socket this service is asked to listen on, for network "unix". */
  private socket: { folder: string; path: string } | undefined;
  restarts = 0;

  constructor(private readonly spec: SpawnSpec) {
    super();
  }

  /** The socket the service was asked to listen on; undefined on TCP. */
  get socketPath(): string | undefined {
    return this.socket?.path;
  }

  get address(): string {
    if (!this.handshake) throw new Error(`service ${this.spec.stageId} has not started`);
    return this.handshake.address;
  }

  get contract(): { name: string; major: number } | undefined {
    return this.handshake ? { name: this.handshake.contract, major: this.handshake.major } : undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves with its handshake. */
  async start(): Promise<Handshake> {
    this.stopping = false;
    this.handshake = await this.spawnOnce();
    return this.handshake;
  }

  /**
   * Replaces the process (killing it if it still runs) after the backoff its restart count calls
   * for. Throws a UserError once the restart limit is spent.
   */
  async restart(reason: string): Promise<Handshake> {
    for (;;) {
      if (this.restarts >= this.spec.restart.maxRestarts) {
        throw new UserError(
          `stage "${this.spec.stageId}": service restarted ${this.restarts} times and failed again (${reason})`,
          {
            hint: `look at its log lines above; raise restart.maxRestarts if it is expected to crash${this.tailHint()}`,
          },
        );
      }
      this.restarts += 1;
      const delay = backoffDelayMs(this.restarts, this.spec.restart);
      await this.kill(0);
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.stopping) throw new Error(`stage "${this.spec.stageId}" is stopping`);
      this.spec.logger.warn(
        { stage: this.spec.stageId, restarts: this.restarts, reason, delayMs: delay },
        "restarting service",
      );
      try {
        this.stopping = false;
        this.handshake = await this.spawnOnce();
        this.emit("restarted", this.restarts, reason);
        return this.handshake;
      } catch (error) {
        reason = (error as Error).message;
      }
    }
  }

  /** Kills the process now (it stopped serving); whoever uses it recovers it with restart(). */
  async killNow(): Promise<void> {
    await this.kill(0);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    await this.kill(graceMs);
    if (this.socket) removeSocketFolder(this.socket.folder);
    this.socket = undefined;
  }

  private async kill(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(graceMs > 0 ? "SIGTERM" : "SIGKILL");
    if (graceMs > 0) {
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    } else {
      await exited;
    }
  }

  private spawnOnce(): Promise<Handshake> {
    const { stageId, argv, cwd, env, handshakeTimeoutMs, logger } = this.spec;
    const [program = "", ...args] = argv;
    // Own process group: a Ctrl-C on the terminal reaches Core alone, which then drains the
    // pipeline and stops the services in order. stdin stays open as a lifeline: the service
    // stops when it closes (Core exited, however it exited).
    const child = spawn(program, args, {
      cwd,
      env: {
        ...process.env,
        ...env,
        ...this.listenEnv(),
        [CONTRACT_MAJORS_ENV]: (this.spec.contractMajors ?? ALL_CORE_MAJORS).join(","),
        FLOW_SPAWNED: "1",
      },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    this.stderrTail.length = 0;

    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      logServiceLine(logger, stageId, line);
    });

    return new Promise<Handshake>((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | undefined, handshake?: Handshake): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          child.kill("SIGKILL");
          reject(error);
        } else resolve(handshake as Handshake);
      };
      const timer = setTimeout(
        () =>
          settle(
            new UserError(
              `stage "${stageId}": no handshake from \`${argv.join(" ")}\` within ${handshakeTimeoutMs} ms${this.tailHint()}`,
            ),
          ),
        handshakeTimeoutMs,
      );
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        if (!settled && isHandshakeLine(line)) {
          try {
            const handshake = parseHandshake(line);
            logger.info(
              {
                stage: stageId,
                // Not `pid`: every line already has Core's own pid, and a key twice breaks log parsers.
                servicePid: child.pid,
                address: handshake.address,
                contract: `${handshake.contract} v${handshake.major}`,
              },
              "service started",
            );
            settle(undefined, handshake);
          } catch (error) {
            settle(new UserError(`stage "${stageId}": bad handshake: ${(error as Error).message}`));
          }
        } else if (line.trim() !== "") {
          logger.info({ stage: stageId, stream: "stdout" }, line);
        }
      });
      child.once("error", (error: NodeJS.ErrnoException) => {
        settle(
          new UserError(
            `stage "${stageId}": cannot start \`${argv.join(" ")}\`: ${spawnFailure(program, cwd, error)}`,
            {
              hint: "check the program path and that it is executable",
            },
          ),
        );
      });
      child.once("exit", (code, signal) => {
        settle(
          new UserError(
            `stage "${stageId}": \`${argv.join(" ")}\` exited (${signal ?? `code ${code}`}) before its handshake${this.tailHint()}`,
          ),
        );
        // Whoever uses the service finds out through its broken stream and restarts it.
        if (!this.stopping && this.child === child)
          logger.warn({ stage: stageId, code, signal }, "service exited");
      });
    });
  }

  /**
   * FLOW_LISTEN for the next process: its socket on "unix" (a file a killed process left there is
   * removed first, or the new one could not listen), nothing on "tcp" (nor what Core itself was
   * given, which is not meant for its services).
   */
  private listenEnv(): NodeJS.ProcessEnv {
    if ((this.spec.network ?? spawnNetwork()) === "unix") {
      this.socket ??= newSocketPath(this.spec.stageId);
      if (this.socket) {
        rmSync(this.socket.path, { force: true });
        return { [LISTEN_ENV]: `unix:${this.socket.path}` };
      }
    }
    return { [LISTEN_ENV]: "" };
  }

  private tailHint(): string {
    const line = telltaleLine(this.stderrTail);
    return line ? `; its last stderr line: ${line}` : "";
  }
}

/** Why a program could not be started, in words ("no such program on PATH"), not `spawn x ENOENT`. */
function spawnFailure(program: string, cwd: string, error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT")
    return program.includes("/")
      ? `no such program: ${resolve(cwd, program)}`
      : `no program "${program}" on PATH`;
  if (error.code === "EACCES") return `${program} is not executable (permission denied)`;
  return error.message;
}

/**
 * The stderr line that says what went wrong: the last one naming an error (Node's "Error: Cannot
 * find module …", Python's "ModuleNotFoundError: …"), else the last one that is not a stack frame,
 * a fragment of a dumped object or the runtime's version banner (Node ends a crash with
 * "Node.js v20…", which says nothing about it).
 */
export function telltaleLine(lines: readonly string[]): string | undefined {
  const meaningful = lines
    .map((line) => line.trim())
    .filter(
      (line) =>
        line !== "" &&
        !/^Node\.js v\d/.test(line) &&
        !/^at /.test(line) &&
        !/^[\^{}[\]]+$/.test(line) &&
        !/^[\w$]+: .*,$/.test(line),
    );
  const error = meaningful.filter((line) => /^(\w+\.)*\w*(Error|Exception)\b/.test(line)).at(-1);
  return error ?? meaningful.at(-1);
}

/** A service's stderr line into Core's log: pino JSON lines keep their level and fields. */
function logServiceLine(logger: Logger, stageId: string, line: string): void {
  if (line.startsWith("{")) {
    try {
      const record = JSON.parse(line) as { level?: number; msg?: string; [key: string]: unknown };
      const { level = 30, msg = "", time: _time, pid: _pid, hostname: _host, ...fields } = record;
      const method = level >= 50 ? "error" : level >= 40 ? "warn" : level >= 30 ? "info" : "debug";
      logger[method]({ stage: stageId, ...fields }, msg);
      return;
    } catch {
      // not JSON after all: log it as text
    }
  }
  logger.info({ stage: stageId, stream: "stderr" }, line);
}
