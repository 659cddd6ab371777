import { startTcpProxy } from "@flow/testing";
import { mysqlServerIssues } from "./mysql-checks";
import type { MysqlConsumerConfig } from "./mysql-consumer-config";
import { serverOf, startCommandHoldingProxy, urlThrough } from "./test-support/command-holding-proxy";
import { leftOpenBy } from "./test-support/left-open";
import { withMariadb } from "./test-support/mariadb-for-tests";

withMariadb((url) => {
  const config = (through: string, options: Partial<MysqlConsumerConfig> = {}): MysqlConsumerConfig => ({
    url: through,
    table: "flow_checks_never_read",
    createTable: false,
    key: ["id"],
    onConflict: "nothing",
    timeoutMs: 1000,
    connectTimeoutMs: 10_000,
    statementTimeoutMs: 30_000,
    ...options,
  });
  const proxies: { close(): Promise<void> }[] = [];
  afterEach(() => Promise.all(proxies.splice(0).map((proxy) => proxy.close())));

  it("reports a server whose handshake does not come within connectTimeoutMs at /url, and leaves no timer and no socket open", async () => {
    const held = await startTcpProxy(serverOf(url));
    proxies.push(held);
    held.hold();
    let issues: unknown;
    const left = await leftOpenBy(async () => {
      issues = await mysqlServerIssues(
        config(urlThrough(url, held), { connectTimeoutMs: 200 }),
        "the server",
      );
    });
    expect(issues).toEqual([
      expect.objectContaining({
        path: "/url",
        message: expect.stringMatching(
          /^cannot connect to the server: no handshake .* connectTimeoutMs \(200 ms\)/,
        ),
      }),
    ]);
    expect(left).toEqual({ timers: 0, sockets: 0 });
  });

  it("reports a server silent after the handshake at /url, and closes its socket", async () => {
    const silent = await startCommandHoldingProxy(serverOf(url));
    proxies.push(silent);
    let issues: unknown;
    const left = await leftOpenBy(async () => {
      // The checks wait 5 s at most for each answer, whatever statementTimeoutMs says.
      issues = await mysqlServerIssues(config(urlThrough(url, silent)), "the server");
    });
    expect(issues).toEqual([
      expect.objectContaining({
        path: "/url",
        message: expect.stringMatching(/^cannot check the server: no answer to a statement within 5000 ms/),
      }),
    ]);
    expect(left).toEqual({ timers: 0, sockets: 0 });
  });
});
