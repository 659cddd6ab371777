/** Whether this machine offers something a test needs (root, strace, a server), and if not, why. */
export type MachineRequirement = { available: true } | { available: false; reason: string };

/**
 * The rule of the real-server tests (see postgres-for-tests) for any other thing the machine must
 * offer: registers the tests `body` defines when `requirement` holds; otherwise registers, in their
 * place, a failing test under CI=true or, elsewhere, a skipped one after a loud warning. `what` names
 * the requirement, `howToFix` says how to meet it.
 */
export function withMachineRequirement(
  what: string,
  requirement: MachineRequirement,
  howToFix: string,
  body: () => void,
): void {
  if (requirement.available) {
    body();
    return;
  }
  const missing = `${what} is not available: ${requirement.reason}`;
  if (process.env.CI === "true") {
    test(`${what} is available (required when CI=true)`, () => {
      throw new Error(`${missing}. Under CI=true these tests must run; ${howToFix}.`);
    });
    return;
  }
  console.warn(
    `\n${"!".repeat(78)}\n!! SKIPPING tests that need ${what}: ${requirement.reason}\n!! ${howToFix}; under CI=true this fails.\n${"!".repeat(78)}\n`,
  );
  test.skip(`SKIPPED, ${missing}`, () => {});
}
