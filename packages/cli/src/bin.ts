#!/usr/bin/env -S node --min-semi-space-size=16
import { main } from "./main";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Only bugs reach this point: user errors are printed and turned into exit codes by main().
    console.error(error);
    process.exitCode = 70;
  },
);
