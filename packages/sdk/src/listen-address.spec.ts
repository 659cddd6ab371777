import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessorServiceService } from "./gen/processor_service/v1/processor";
import { parseHandshake } from "./handshake";
import { checkServingStatus } from "./health-check";
import { LISTEN_ENV, listenAddressFromEnv } from "./listen-address";
import { serveProcessor } from "./serve";

const packageDir = join(__dirname, "..");

describe("FLOW_LISTEN", () => {
  it("names a Unix socket by absolute path; unset or empty means TCP; anything else is refused", () => {
    expect(listenAddressFromEnv({ [LISTEN_ENV]: "unix:/run/flow/a.sock" })).toEqual({
      network: "unix",
      path: "/run/flow/a.sock",
    });
    expect(listenAddressFromEnv({})).toBeUndefined();
    expect(listenAddressFromEnv({ [LISTEN_ENV]: "" })).toBeUndefined();
    for (const bad of ["tcp:127.0.0.1:5000", "unix:relative.sock", "/run/flow/a.sock"]) {
      expect(() => listenAddressFromEnv({ [LISTEN_ENV]: bad })).toThrow(
        `${LISTEN_ENV}: found "${bad}", expected unix:<absolute socket path> (or leave it unset to listen on TCP)`,
      );
    }
  });

  describe("a service started with it", () => {
    let dir: string;
    const saved = process.env[LISTEN_ENV];
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "flow-listen-"));
    });
    afterEach(() => {
      if (saved === undefined) delete process.env[LISTEN_ENV];
      else process.env[LISTEN_ENV] = saved;
      rmSync(dir, { recursive: true, force: true });
    });

    it("listens on the socket and names it in its handshake", async () => {
      const path = join(dir, "stage.sock");
      process.env[LISTEN_ENV] = `unix:${path}`;
      const written: string[] = [];
      const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
      const running = await serveProcessor(
        {
          name: "on-a-socket",
          version: "1.0.0",
          configSchema: { type: "object" },
          process: (event) => event,
        },
        { service: ProcessorServiceService, packageDir, handleSignals: false },
      ).finally(() => write.mockRestore());
      try {
        expect(written).toHaveLength(1);
        expect(parseHandshake(written[0] as string)).toMatchObject({ network: "unix", address: path });
        expect(existsSync(path)).toBe(true);
        expect(await checkServingStatus(`unix:${path}`)).toBe("SERVING");
      } finally {
        await running.stop();
      }
      // A graceful stop closes the socket, and the file goes with it.
      expect(existsSync(path)).toBe(false);
    });

    it("fails to start with the socket's path when it cannot listen there", async () => {
      process.env[LISTEN_ENV] = `unix:${join(dir, "no-such-folder", "stage.sock")}`;
      await expect(
        serveProcessor(
          { name: "nowhere", version: "1.0.0", configSchema: { type: "object" }, process: (event) => event },
          { service: ProcessorServiceService, packageDir, handleSignals: false, handshake: false },
        ),
      ).rejects.toThrow(`cannot listen on ${join(dir, "no-such-folder", "stage.sock")}`);
    });
  });
});
