import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { cleanBuildEnvironment, WORKSPACE_BIN } from "./clean-build-environment";

describe("cleanBuildEnvironment", () => {
  it("drops npm/pnpm/turbo configuration, keeps PNPM_HOME, and puts the workspace's pinned pnpm first", () => {
    const env = cleanBuildEnvironment({
      PATH: "/usr/bin",
      npm_config_user_agent: "pnpm",
      PNPM_SCRIPT_SRC_DIR: "/x",
      PNPM_HOME: "/home/me/.pnpm",
      TURBO_TOKEN: "secret",
      INIT_CWD: "/x",
      HOME: "/home/me",
    });
    expect(env).toEqual({
      PATH: `${WORKSPACE_BIN}${delimiter}/usr/bin`,
      PNPM_HOME: "/home/me/.pnpm",
      HOME: "/home/me",
      TURBO_TELEMETRY_DISABLED: "1",
      DO_NOT_TRACK: "1",
    });
    expect(existsSync(join(WORKSPACE_BIN, "pnpm"))).toBe(true);
  });
});
