#!/usr/bin/env -S node --min-semi-space-size=16
// The `flow` command. A committed file, not dist/bin.js itself: pnpm links a package's bins when it
// installs, before anything is built, and skips a bin whose file does not exist yet, so on a fresh
// clone `npx flow` would find no command after the README's install-then-build.
require("../dist/bin.js");
