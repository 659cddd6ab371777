// Shared jest settings: every package's jest.config.js spreads this.
// @swc/jest strips types (TypeScript 7 has no compiler API for ts-jest; see docs/toolchain.md).
const path = require("node:path");
const fs = require("node:fs");

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, ".swcrc"), "utf8"));

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src"],
  testMatch: ["**/*.spec.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { ...swcrc, swcrc: false }] },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 30000,
};
