import { createServer } from "node:net";
import { checkReachable } from "./address-reachability";

describe("checkReachable", () => {
  it("passes when something listens, and says in one line when nothing does", async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await expect(checkReachable("remote", `127.0.0.1:${port}`, 2000)).resolves.toBeUndefined();
    await new Promise((resolve) => server.close(resolve));
    await expect(checkReachable("remote", `127.0.0.1:${port}`, 2000)).rejects.toThrow(
      `stage "remote": address 127.0.0.1:${port}: nothing is listening there (connection refused)`,
    );
    await expect(checkReachable("remote", "unix:/nonexistent/flow.sock", 2000)).rejects.toThrow(
      'stage "remote": address unix:/nonexistent/flow.sock: no such socket file',
    );
  });
});
