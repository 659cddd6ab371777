/** The convention rules of `flow proto lint`, documented with examples in docs/contracts.md. */
export const LINT_RULES = {
  "path-shape": "a .proto file sits at <proto root>/<name>/v<major>/<file>.proto",
  "file-name": "<file> equals <name>, or <name> without its _service suffix",
  package: "the package is <prefix>.<name>.v<major>, agreeing with the path",
  syntax: 'every file is syntax = "proto3"',
  "folder-kind": "a folder declaring a service ends in _service; a data-type folder does not",
  "data-type-import": "shared data types import nothing",
  "import-path":
    "a service file imports only shared data types, by versioned path <name>/v<major>/<name>.proto",
  "import-unresolved": "every import resolves inside the same proto root (a copy vendored beside the file)",
  symlink: "no symlinks among contracts: vendored copies are real files made by git read-tree",
  "vendored-copy": "a vendored copy matches its lock entry (the same check as flow proto vendor --check)",
  "service-location":
    "service contracts live with their family or package, never in the shared top-level proto/",
  "hand-copy":
    "a copy of a contract released elsewhere is vendored by a pin (git read-tree), never copied by hand",
  "generate-source":
    "a package generates code only from its own proto/ folder, never from another package's protos",
  "released-deleted": "a released major stays in the repository: its folder is never deleted",
  "release-ledger":
    "every ledger entry is what the gate accepted: its tree is the contract it names, compatible with its predecessor",
} as const;

export type LintRuleId = keyof typeof LINT_RULES;

/** A protobuf file the compiler rejects: the input cannot be used (exit 2), not a convention finding. */
export const UNPARSABLE_RULE = "parse";
