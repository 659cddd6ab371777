// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the kit's placeholders are ${NAME} in plain strings
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseConformConfig } from "./conform-config";
import { openScenario } from "./scenario";

/** Whether a process runs (a zombie, ended and not yet reaped, does not). */
const alive = (pid: number): boolean => {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

describe("a scenario", () => {
  it("fills in the placeholders: a port alone as a number, the config's folder, the service's folder as cwd", async () => {
    const config = parseConformConfig(
      {
        config: {
          port: "${PORT}",
          url: "http://127.0.0.1:${PORT}/",
          table: "t_${RUN}",
          script: "${CONFIG_DIR}/x.js",
        },
        setup: 'test "$(pwd)" = "$EXPECTED_CWD"',
        env: { EXPECTED_CWD: tmpdir() },
      },
      "/somewhere/conform.json",
      "/somewhere",
    );
    const scenario = await openScenario(config, tmpdir());
    try {
      const { PORT, RUN } = scenario.placeholders;
      expect(scenario.config.config).toEqual({
        port: Number(PORT),
        url: `http://127.0.0.1:${PORT}/`,
        table: `t_${RUN}`,
        script: "/somewhere/x.js",
      });
    } finally {
      await scenario.close();
    }
  });

  it("runs its server, ready at its first line, and stops it and what it started when it closes", async () => {
    const config = parseConformConfig(
      {
        // The server starts a child of its own, which stopping the server must end too.
        server: "sleep 600 & echo $! > ${TMP}/child; echo ready; wait",
      },
      "conform.json",
    );
    const scenario = await openScenario(config, tmpdir());
    const { TMP } = scenario.placeholders;
    const child = Number(readFileSync(`${TMP}/child`, "utf8"));
    expect(alive(child)).toBe(true);
    const feed = scenario.shell("sleep 600");
    await scenario.close();
    expect(alive(child)).toBe(false);
    expect((await feed.done).stopped).toBe(true);
    expect(existsSync(TMP)).toBe(false);
  });

  it("fails with the server's reason when it ends before it is ready", async () => {
    const config = parseConformConfig({ server: "echo 'port 1 is taken' >&2; exit 3" }, "conform.json");
    await expect(openScenario(config, tmpdir())).rejects.toThrow(
      /server `.*` failed \(exit 3\): port 1 is taken/,
    );
  });
});
