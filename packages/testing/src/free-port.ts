import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 the OS just handed out and that is free again, for a private server a
 * test starts itself (one that cannot be told to listen on port 0 and report what it got).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("the OS gave no port");
  return address.port;
}
