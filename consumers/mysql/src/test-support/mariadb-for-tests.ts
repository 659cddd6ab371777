import { execFileSync } from "node:child_process";
import { type MachineRequirement, withMachineRequirement } from "@flow/testing";

/** The test server: FLOW_TEST_MYSQL_URL, by default the local MariaDB (root, no password, database test). */
export const TEST_MYSQL_URL = process.env.FLOW_TEST_MYSQL_URL || "mysql://root@127.0.0.1:3306/test";

/** Whether the server answers `SELECT 1`; synchronous (a child process), as jest registers tests while loading. */
function mariadbAnswers(): MachineRequirement {
  const probe = `
    require(${JSON.stringify(require.resolve("mysql2/promise"))})
      .createConnection({ uri: process.env.PROBE_URL, connectTimeout: 3000 })
      .then(async (c) => { await c.query("SELECT 1"); await c.end(); })
      .catch((error) => { process.stderr.write(String(error.message || error.code || error)); process.exit(1); });
  `;
  try {
    execFileSync(process.execPath, ["-e", probe], {
      env: { ...process.env, PROBE_URL: TEST_MYSQL_URL },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    return { available: true };
  } catch (error) {
    return {
      available: false,
      reason: (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error),
    };
  }
}

/** The tests `body` defines, when MariaDB/MySQL answers (the rule of @flow/testing's machine requirements). */
export function withMariadb(body: (url: string) => void): void {
  withMachineRequirement(
    `MariaDB/MySQL at ${TEST_MYSQL_URL.replace(/:[^:@/]*@/, ":***@")}`,
    mariadbAnswers(),
    "start MariaDB (or set FLOW_TEST_MYSQL_URL)",
    () => body(TEST_MYSQL_URL),
  );
}
