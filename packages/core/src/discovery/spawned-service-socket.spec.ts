import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { UserError } from "@flow/errors";
import { checkServingStatus } from "@flow/sdk/internal";
import pino from "pino";
import { dialTarget, ServiceEndpoint } from "./service-endpoint";
import { SpawnedService, type SpawnNetwork, spawnNetwork } from "./spawned-service";

// Spawned services on a Unix domain socket: Core asks with FLOW_LISTEN, an SDK service listens
// there, and a service that ignores the variable is dialled over TCP as before.

const SDK_DIR = dirname(dirname(require.resolve("@flow/sdk")));
const logger = pino({ level: "silent" });
const restart = { maxRestarts: 2, initialDelayMs: 10, maxDelayMs: 50 };

let dir: string;
let script: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-socket-spec-"));
  script = join(dir, "identity.js");
  // A real SDK processor; IGNORE_FLOW_LISTEN plays a service that does not know the variable.
  writeFileSync(
    script,
    `if (process.env.IGNORE_FLOW_LISTEN) delete process.env.FLOW_LISTEN;
const { serveProcessor } = require(${JSON.stringify(require.resolve("@flow/sdk"))});
const { ProcessorServiceService } = require(${JSON.stringify(join(SDK_DIR, "dist/gen/processor_service/v1/processor.js"))});
serveProcessor(
  { name: "identity", version: "1.0.0", configSchema: { type: "object" }, process: (event) => event },
  { service: ProcessorServiceService, packageDir: ${JSON.stringify(SDK_DIR)} },
);
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spawned(network: SpawnNetwork, env?: NodeJS.ProcessEnv): SpawnedService {
  return new SpawnedService({
    stageId: "ident/1",
    argv: [process.execPath, script],
    cwd: dir,
    env,
    handshakeTimeoutMs: 20_000,
    restart,
    logger,
    network,
  });
}

describe("spawned services on a Unix socket", () => {
  it("an SDK service listens on a socket in a folder of Core's own, answers there, and the folder goes when it stops", async () => {
    const service = spawned("unix");
    const handshake = await service.start();
    const socket = service.socketPath as string;
    try {
      expect(handshake).toMatchObject({ network: "unix", address: socket });
      expect(socket).toMatch(/\/flow-[^/]+\/ident_1\.sock$/);
      // mkdtemp: only Core's user can reach the socket.
      expect(statSync(dirname(socket)).mode & 0o777).toBe(0o700);
      expect(await checkServingStatus(dialTarget(handshake))).toBe("SERVING");
    } finally {
      await service.stop();
    }
    expect(existsSync(dirname(socket))).toBe(false);
  });

  it("a service that ignores FLOW_LISTEN hands back a tcp address, and that is what Core dials", async () => {
    const service = spawned("unix", { IGNORE_FLOW_LISTEN: "1" });
    const handshake = await service.start();
    const socket = service.socketPath as string;
    try {
      expect(handshake.network).toBe("tcp");
      expect(dialTarget(handshake)).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await checkServingStatus(dialTarget(handshake))).toBe("SERVING");
    } finally {
      await service.stop();
    }
    expect(existsSync(dirname(socket))).toBe(false);
  });

  it("on tcp, a service is not asked for a socket, whatever FLOW_LISTEN Core itself was started with", async () => {
    const service = spawned("tcp", { FLOW_LISTEN: "unix:/nonexistent/core-own.sock" });
    try {
      const handshake = await service.start();
      expect(handshake.network).toBe("tcp");
      expect(service.socketPath).toBeUndefined();
      expect(await checkServingStatus(dialTarget(handshake))).toBe("SERVING");
    } finally {
      await service.stop();
    }
  });

  it("a service killed with SIGKILL (its socket file left behind) is restarted on the same socket and dialled there", async () => {
    const endpoint = new ServiceEndpoint({
      stageId: "ident",
      locator: { kind: "command", argv: [process.execPath, script], cwd: dir },
      baseDir: dir,
      handshakeTimeoutMs: 20_000,
      restart,
      logger,
    });
    const saved = process.env.FLOW_SPAWN_NETWORK;
    process.env.FLOW_SPAWN_NETWORK = "unix";
    try {
      await endpoint.start();
      const target = endpoint.target;
      expect(target).toMatch(/^unix:\/.*\/ident\.sock$/);
      // A killed process cannot remove its socket file: the restart must.
      process.kill(endpoint.pid as number, "SIGKILL");
      expect(existsSync(target.slice("unix:".length))).toBe(true);
      await endpoint.recover("killed");
      expect(endpoint.target).toBe(target);
      expect(await checkServingStatus(endpoint.target)).toBe("SERVING");
    } finally {
      if (saved === undefined) delete process.env.FLOW_SPAWN_NETWORK;
      else process.env.FLOW_SPAWN_NETWORK = saved;
      await endpoint.stop();
    }
  });

  it("FLOW_SPAWN_NETWORK is unix or tcp, unset the default; anything else is a clear error", () => {
    expect(spawnNetwork({ FLOW_SPAWN_NETWORK: "tcp" })).toBe("tcp");
    expect(spawnNetwork({ FLOW_SPAWN_NETWORK: "unix" })).toBe("unix");
    expect(["unix", "tcp"]).toContain(spawnNetwork({}));
    expect(() => spawnNetwork({ FLOW_SPAWN_NETWORK: "udp" })).toThrow(
      new UserError('FLOW_SPAWN_NETWORK: found "udp", expected unix or tcp'),
    );
  });
});
