import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { readSyscallTrace, spawnTraced, type TracedCall } from "./syscall-trace";

/** A Flow service process running under strace, listening where its handshake line said. */
export interface TracedService {
  readonly address: string;
  /** Stops the service with SIGTERM and resolves once strace has written the whole trace and exited. */
  stop(): Promise<void>;
}

/**
 * Runs a service's built main script (`node <script>`) under strace (spawnTraced) on a port the OS
 * chooses, and resolves with the address of its handshake line. Rejects, with what the service
 * printed, if it exits first.
 */
export async function startTracedService(
  script: string,
  options: { syscalls: string[]; traceFile: string },
): Promise<TracedService> {
  const { FLOW_SERVICE_PORT: _port, FLOW_REGISTRY: _registry, ...inherited } = process.env;
  const child = spawnTraced(process.execPath, [script], {
    ...options,
    // libuv may hand file I/O to io_uring, whose operations strace cannot see; keep plain syscalls.
    env: { ...inherited, UV_USE_IO_URING: "0" },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, "exit");
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Signalling strace would only detach it; the service is strace's child.
    const service = tracedChild(child.pid);
    if (service) process.kill(service, "SIGTERM");
    else child.kill("SIGKILL");
    await exited;
  };
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const handshake = new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line.startsWith("flow-handshake|")) resolve(line.split("|")[5] ?? "");
    });
    void exited.then(([code, signal]) =>
      reject(new Error(`${script} exited (${signal ?? code}) before its handshake line: ${stderr.trim()}`)),
    );
  });
  try {
    const address = await handshake;
    return { address, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    lines.close();
    // Keep reading whatever else the service prints, so a full pipe never blocks it.
    child.stdout?.resume();
  }
}

/** The first child of a process (strace's tracee), from /proc. */
function tracedChild(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
    return children[0] ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a service under strace (startTracedService), lets `exercise` talk to it at its address,
 * stops it (also when `exercise` fails) and returns the whole trace.
 */
export async function traceService(
  script: string,
  options: { syscalls: string[]; traceFile: string },
  exercise: (address: string) => Promise<void>,
): Promise<TracedCall[]> {
  const service = await startTracedService(script, options);
  try {
    await exercise(service.address);
  } finally {
    await service.stop();
  }
  return readSyscallTrace(options.traceFile);
}
