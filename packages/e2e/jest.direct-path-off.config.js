// The e2e suite with the direct data path off: batches go through Core as before the direct path.
// Set here, before jest starts its workers, so every spec and every `flow` process it spawns (they
// pass their environment on) inherits it; `npx jest -c jest.direct-path-off.config.js <spec>` runs
// one spec this way.
process.env.FLOW_DIRECT_PATH = "off";

module.exports = require("./jest.config.js");
