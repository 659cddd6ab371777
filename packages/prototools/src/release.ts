import { UserError } from "@flow/errors";
import type { GitRepo } from "./git";
import { type Release, type ReleaseLedger, tagFor } from "./release-ledger";

export interface RecordReleaseInput {
  name: string;
  version: string;
  /** The released folder, repository-relative: `proto/event/v1`. */
  path: string;
  /** The commit released; its tree at `path` is what pins vendor. */
  commit: string;
}

/**
 * Records a release: the tag `proto-<name>@v<version>` on the commit and an entry in the
 * ledger (commit + tree id), which a clone without tags still has. Checks that decide whether a
 * release is allowed (lint, breaking changes, a clean work tree) belong to the caller.
 */
export function recordRelease(repo: GitRepo, ledger: ReleaseLedger, input: RecordReleaseInput): Release {
  const tag = tagFor(input.name, input.version);
  if (repo.resolve(`refs/tags/${tag}`)) {
    throw new UserError(`tag ${tag} already exists`, {
      hint: "choose the next version; releases are immutable",
    });
  }
  if (ledger.find(input.name, input.version)) {
    throw new UserError(`${input.name} ${input.version} is already in the release ledger`);
  }
  const tree = repo.tryRun(["rev-parse", "--verify", "--quiet", `${input.commit}:${input.path}`]);
  if (!tree) {
    throw new UserError(`${input.path} does not exist at commit ${input.commit.slice(0, 12)}`, {
      hint: "commit the contract before releasing it",
    });
  }
  const release: Release = {
    name: input.name,
    version: input.version,
    tag,
    path: input.path,
    commit: input.commit,
    tree,
    date: new Date().toISOString().slice(0, 10),
  };
  repo.run(["tag", tag, input.commit]);
  ledger.add(release);
  ledger.write();
  return release;
}
