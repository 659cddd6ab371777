import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type MachineRequirement, withMachineRequirement } from "./machine-requirement";

/** The server the tests use: FLOW_TEST_REDIS_URL, default the machine's Redis. */
export const TEST_REDIS_URL = process.env.FLOW_TEST_REDIS_URL || "redis://127.0.0.1:6379";

/**
 * Whether the server answers PING. Synchronous (a short child process), because jest decides
 * which tests exist while loading the file.
 */
function redisAnswers(): MachineRequirement {
  const { hostname, port } = new URL(TEST_REDIS_URL);
  const probe = `
    const socket = require("node:net").connect(${Number(port || 6379)}, ${JSON.stringify(hostname)});
    socket.setTimeout(3000, () => { process.stderr.write("no answer within 3 s"); process.exit(1); });
    socket.on("error", (error) => { process.stderr.write(error.message); process.exit(1); });
    socket.on("connect", () => socket.write("PING\\r\\n"));
    socket.on("data", (data) => { if (!String(data).startsWith("+PONG")) { process.stderr.write(String(data)); process.exit(1); } socket.end(); });
  `;
  try {
    execFileSync(process.execPath, ["-e", probe], { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
    return { available: true };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { available: false, reason: stderr || String(error) };
  }
}

/** Registers the tests of `body` when Redis answers; a loud skip (a failure under CI=true) when not. */
export function withRedis(body: () => void): void {
  withMachineRequirement(
    `Redis at ${TEST_REDIS_URL}`,
    redisAnswers(),
    "start redis-server (or set FLOW_TEST_REDIS_URL)",
    body,
  );
}

/** A key no other test (or test run) uses. */
export function uniqueKey(name: string): string {
  return `flow-test:${name}:${process.pid}:${randomBytes(4).toString("hex")}`;
}
