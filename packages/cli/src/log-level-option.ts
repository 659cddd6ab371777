import { Option } from "commander";

/** The levels pino knows; anything else is refused when the command line is read, not by a crash inside pino. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export function logLevelOption(): Option {
  return new Option("--log-level <level>", "log level").choices(LOG_LEVELS).default("info");
}
