/**
 * How every hint Flow prints spells a command, so that it runs as pasted. The README installs with
 * `npx -y pnpm@… install`, which leaves no `pnpm` and no `flow` on PATH; it does leave both in the
 * repository's node_modules/.bin, and `npx` finds a program there from any folder of the
 * repository (it walks up to the root). docs/cli.md gives the reasoning.
 */
export const FLOW_CLI = "npx flow";

/** The repository's pinned pnpm (a root dev dependency), reached the same way. */
export const PNPM_CLI = "npx pnpm";
