import type { ServiceLocator } from "./pipeline-model";
import type { SourceLocation } from "./source-location";

/**
 * Where in its pipeline file a stage's `use:`, `command:`, `address:`, `dns:` or `registry:` is
 * written, so that discovery can say "file:line:col" when the service cannot be started or reached.
 * Kept beside the locator rather than in it: locators are compared by value (a reload keeps a
 * stage whose definition did not change, wherever its lines moved).
 */
const locations = new WeakMap<ServiceLocator, SourceLocation>();

export function rememberLocatorLocation(locator: ServiceLocator, location: SourceLocation): void {
  locations.set(locator, location);
}

export function locatorLocation(locator: ServiceLocator): SourceLocation | undefined {
  return locations.get(locator);
}
