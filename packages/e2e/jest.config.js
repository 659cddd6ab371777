// The e2e suite runs twice (`pnpm test`): without FLOW_DIRECT_PATH (the direct data path on, its
// default), and with jest.direct-path-off.config.js, which sets FLOW_DIRECT_PATH=off for every
// `flow` process the specs spawn. The display name says which, on every test file jest reports.
// The values Core reads as off (packages/core/src/config/environment-switches.ts), in any case.
const directPathOff = ["off", "0", "false"].includes(
  (process.env.FLOW_DIRECT_PATH ?? "").trim().toLowerCase(),
);

module.exports = {
  ...require("../../jest.base.js"),
  displayName: directPathOff
    ? { name: "direct path off", color: "magenta" }
    : { name: "direct path on", color: "cyan" },
};
