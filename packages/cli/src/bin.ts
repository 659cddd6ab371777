#!/usr/bin/env -S node --min-semi-space-size=16
import { reportEscapedError } from "./escaped-error";
import { stopSignals } from "./stop-signals";

// Caught before the rest of Flow loads (that takes a good part of a second): a signal arriving
// meanwhile stops the command cleanly instead of killing it half-way.
stopSignals.install();

// Whatever escapes, even outside a command's promise, is one line, never a stack.
const fail = (error: unknown): void => {
  process.exitCode = reportEscapedError(error);
  process.exit();
};
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

import("./main.js")
  .then(({ main }) => main(process.argv))
  .then((code) => {
    process.exitCode = code;
  }, fail);
