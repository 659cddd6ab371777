import { UserError } from "@flow/errors";
import semver from "semver";
import type { Release, ReleaseLedger } from "./release-ledger";

/** One line of a pin manifest: a contract and the versions acceptable for it. */
export interface Pin {
  /** As written: `event@^1`. */
  spec: string;
  name: string;
  /** As written: `^1`, `~1.2`, `1.2.3`, `v1`. */
  range: string;
  /** The semver range it means (`v1` means `^1`). */
  semverRange: string;
  /** The major folder the pin vendors. */
  major: number;
}

const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/** Parses `name@range`. */
export function parsePin(spec: string, where: string): Pin {
  const at = spec.indexOf("@");
  if (at <= 0) {
    throw new UserError(`${where}: pin "${spec}" is not of the form <name>@<range>`, {
      hint: "write e.g. event@^1",
    });
  }
  const name = spec.slice(0, at);
  const range = spec.slice(at + 1);
  if (!NAME_PATTERN.test(name)) {
    throw new UserError(`${where}: "${name}" is not a contract name (lower-case letters, digits and _)`);
  }
  const semverRange = /^v\d+$/.test(range) ? `^${range.slice(1)}` : range;
  const valid = semver.validRange(semverRange);
  const min = valid ? semver.minVersion(valid) : null;
  if (!valid || !min) {
    throw new UserError(`${where}: "${range}" in pin "${spec}" is not a version range`, {
      hint: "use ^1, ~1.2, 1.2.3 or v1",
    });
  }
  const major = min.major;
  if (!semver.satisfies(`${major + 1}.0.0`, valid) && semver.intersects(valid, `^${major}`)) {
    return { spec, name, range, semverRange, major };
  }
  throw new UserError(`${where}: pin "${spec}" spans several majors`, {
    hint: `a pin vendors one v<major> folder: pin each major on its own line, e.g. ${name}@^${major}`,
  });
}

/** The highest release of the pin's contract that its range admits. */
export function resolvePin(pin: Pin, ledger: ReleaseLedger, where: string): Release {
  const releases = ledger.releasesOf(pin.name);
  if (releases.length === 0) {
    const known = ledger.names();
    throw new UserError(`${where}: no contract named "${pin.name}" has been released`, {
      hint:
        known.length > 0 ? `released contracts: ${known.join(", ")}` : "release it first: flow proto release",
    });
  }
  const match = releases.filter((release) => semver.satisfies(release.version, pin.semverRange)).at(-1);
  if (!match) {
    throw new UserError(`${where}: no release of ${pin.name} matches "${pin.range}"`, {
      hint: `released versions: ${releases.map((release) => release.version).join(", ")}`,
    });
  }
  return match;
}
