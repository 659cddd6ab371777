import { UserError, UserErrors } from "@flow/errors";
import { runLintCommand } from "./lint-command";
import { recordRelease } from "./release";
import { runReleaseCommand } from "./release-command";
import { ReleaseLedger } from "./release-ledger";
import {
  addBillingService,
  addSourcesFamily,
  dataTypeProto,
  familyLayoutRepo,
  perServiceLayoutRepo,
} from "./test-support/fixture-repos";
import { TempRepo } from "./test-support/temp-repo";
import { runVendorCommand } from "./vendor-command";

const PREFIX = "flow.microservices";
const EVENT = "proto/event/v1/event.proto";

function thrown(work: () => unknown): UserError {
  try {
    work();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

describe("flow proto release", () => {
  let temp: TempRepo;
  beforeEach(() => {
    temp = familyLayoutRepo(PREFIX);
  });
  afterEach(() => temp.remove());

  const releaseEvent = (kind: string, extra: Partial<Parameters<typeof runReleaseCommand>[0]> = {}) =>
    runReleaseCommand({ root: temp.root, contract: "event", kind, ...extra });

  it("releases a compatible change as a minor: tag, ledger entry with commit and tree, changelog", () => {
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"));
    const commit = temp.commit("event: add kind");

    const result = releaseEvent("minor", { note: "Adds the event kind." });

    expect(result.release).toEqual(
      expect.objectContaining({
        name: "event",
        version: "1.1.0",
        tag: "proto-event@v1.1.0",
        path: "proto/event/v1",
        commit,
        tree: temp.git("rev-parse", `${commit}:proto/event/v1`),
      }),
    );
    expect(result.previous?.version).toBe("1.0.0");
    expect(temp.git("rev-parse", "proto-event@v1.1.0")).toBe(commit);
    expect(ReleaseLedger.read(temp.root).find("event", "1.1.0")).toEqual(result.release);
    expect(result.changelog).toBe("proto/event/CHANGELOG.md");
    const changelog = temp.read("proto/event/CHANGELOG.md");
    expect(changelog).toMatch(/^# event changelog\n/);
    expect(changelog).toContain("## 1.1.0 (");
    expect(changelog).toContain(`Tag \`proto-event@v1.1.0\`, commit \`${commit.slice(0, 12)}\``);
    expect(changelog).toContain("Adds the event kind.\n\n- event: add kind\n");
    expect(changelog).not.toContain("- shared types"); // commits before 1.0.0 belong to 1.0.0
  });

  it("releases patches and appends each to the changelog, newest last", () => {
    temp.write(EVENT, `// Event: documented better.\n${temp.read(EVENT)}`);
    temp.commit("event: comment");
    releaseEvent("patch");
    temp.write(EVENT, `// And again.\n${temp.read(EVENT)}`);
    temp.commit("event: another comment");
    releaseEvent("patch");
    const changelog = temp.read("proto/event/CHANGELOG.md");
    expect(changelog.indexOf("## 1.0.1")).toBeLessThan(changelog.indexOf("## 1.0.2"));
    expect(
      ReleaseLedger.read(temp.root)
        .releasesOf("event")
        .map((r) => r.version),
    ).toEqual(["1.0.0", "1.0.1", "1.0.2"]);
    expect(temp.tags()).toEqual(expect.arrayContaining(["proto-event@v1.0.1", "proto-event@v1.0.2"]));
  });

  it("refuses a breaking change in a minor or patch, naming what broke", () => {
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  bytes id = 1;\n"));
    temp.commit("event: id as bytes");
    const error = thrown(() => releaseEvent("minor"));
    expect(error).toBeInstanceOf(UserErrors);
    expect(error.exitCode).toBe(1);
    const messages = (error as UserErrors).errors.map((e) => e.message);
    expect(messages[0]).toMatch(/^proto\/event\/v1\/event\.proto:7:3: FIELD_SAME_TYPE: /);
    expect(messages.at(-1)).toBe("a minor release of event cannot break 1.0.0: 1 breaking change(s)");
    expect((error as UserErrors).errors.at(-1)?.hint).toContain("add proto/event/v2/");
    expect(temp.tags()).not.toContain("proto-event@v1.1.0");
  });

  it("refuses a patch that adds a field (additions are minor), naming what it adds and where", () => {
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"));
    temp.commit("event: add kind");
    const error = thrown(() => releaseEvent("patch"));
    expect(error).toBeInstanceOf(UserErrors);
    expect(error.exitCode).toBe(1);
    expect((error as UserErrors).errors.map((e) => e.message)).toEqual([
      "proto/event/v1/event.proto:8:3: adds field Event.kind",
      "a patch release of event changes no schema, but this one changes 1.0.0 in 1 place(s)",
    ]);
    expect((error as UserErrors).errors.at(-1)?.hint).toBe(
      "additions are a minor release: flow proto release event minor",
    );
    expect(temp.tags()).not.toContain("proto-event@v1.0.1");
    expect(releaseEvent("minor").release.version).toBe("1.1.0");
  });

  it("a patch entry that adds a field, written by hand, is a ledger finding", () => {
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"));
    temp.commit("event: add kind");
    releaseEvent("minor");
    temp.write("proto-releases.yaml", temp.read("proto-releases.yaml").replace(/1\.1\.0/g, "1.0.1"));
    temp.commit("ledger: 1.1.0 renamed 1.0.1 by hand");
    expect(runLintCommand({ root: temp.root }).findings.map((f) => `${f.rule}: ${f.message}`)).toEqual([
      "release-ledger: event 1.0.1 is a patch of 1.0.0 but adds field Event.kind (event/v1/event.proto:8:3)",
    ]);
  });

  it("releases a new major from its own v2 folder, leaving v1 as it was", () => {
    temp.write(
      "proto/event/v2/event.proto",
      dataTypeProto(PREFIX, "event", "  bytes id = 1;\n").replace(".v1;", ".v2;"),
    );
    temp.commit("event v2");
    const result = releaseEvent("major");
    expect(result.release).toEqual(
      expect.objectContaining({ version: "2.0.0", path: "proto/event/v2", tag: "proto-event@v2.0.0" }),
    );
    // A later minor of v1 is still possible.
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  string more = 2;\n"));
    temp.commit("event v1: more");
    expect(releaseEvent("minor", { major: 1 }).release.version).toBe("1.1.0");
    // Without --major, minor and patch go to the highest released major, here unchanged.
    expect(thrown(() => releaseEvent("patch")).message).toBe(
      "proto/event/v2 has not changed since event 2.0.0",
    );
  });

  it("a patch without --major once v2 exists points at --major 1 when only v1 changed", () => {
    temp.write("proto/event/v2/event.proto", dataTypeProto(PREFIX, "event").replace(".v1;", ".v2;"));
    temp.commit("event v2");
    releaseEvent("major");
    temp.write(EVENT, `// A fix to the v1 documentation.\n${temp.read(EVENT)}`);
    temp.commit("event v1: comment");
    const error = thrown(() => releaseEvent("patch"));
    expect(error.message).toBe("proto/event/v2 has not changed since event 2.0.0");
    expect(error.hint).toBe(
      "proto/event/v1 has changed since event 1.0.0: release it with flow proto release event patch --major 1",
    );
    expect(releaseEvent("patch", { major: 1 }).release.version).toBe("1.0.1");
  });

  it("a dry run checks everything and changes nothing", () => {
    temp.write(EVENT, `// c\n${temp.read(EVENT)}`);
    temp.commit("event: comment");
    const ledgerBefore = temp.read("proto-releases.yaml");
    const result = releaseEvent("patch", { dryRun: true });
    expect(result).toEqual(
      expect.objectContaining({ dryRun: true, release: expect.objectContaining({ version: "1.0.1" }) }),
    );
    expect(temp.tags()).not.toContain("proto-event@v1.0.1");
    expect(temp.read("proto-releases.yaml")).toBe(ledgerBefore);
  });

  it("refuses a major release without a new major folder", () => {
    expect(thrown(() => releaseEvent("major")).message).toBe(
      "a major release of event needs the folder proto/event/v2/",
    );
  });

  it("refuses uncommitted changes to the contract", () => {
    temp.write(EVENT, `${temp.read(EVENT)}// more\n`);
    expect(thrown(() => releaseEvent("patch")).message).toBe(
      "proto/event/v1 has uncommitted changes (proto/event/v1/event.proto)",
    );
    temp.git("checkout", "--", EVENT);
    temp.write("proto/event/v1/notes.proto", 'syntax = "proto3";\n');
    expect(thrown(() => releaseEvent("patch")).message).toMatch(/^proto\/event\/v1 has uncommitted changes/);
  });

  it("refuses when nothing changed, and when the tag exists", () => {
    expect(thrown(() => releaseEvent("patch")).message).toBe(
      "proto/event/v1 has not changed since event 1.0.0",
    );
    temp.write(EVENT, `// c\n${temp.read(EVENT)}`);
    temp.commit("event: comment");
    temp.git("tag", "proto-event@v1.0.1");
    const error = thrown(() => releaseEvent("patch"));
    expect(error.message).toBe("event 1.0.1 is already released (tag proto-event@v1.0.1 exists)");
    expect(error.exitCode).toBe(2);
  });

  it("refuses on lint findings", () => {
    temp.write(EVENT, dataTypeProto("acme", "event"));
    temp.commit("event: wrong package");
    const error = thrown(() => releaseEvent("patch"));
    expect((error as UserErrors).errors[0]?.message).toMatch(
      /^proto\/event\/v1\/event\.proto:4:1: package: /,
    );
    expect(error.exitCode).toBe(1);
  });

  it("refuses an unknown contract, an unknown kind, a first minor", () => {
    expect(
      thrown(() => runReleaseCommand({ root: temp.root, contract: "nope", kind: "minor" })).message,
    ).toBe('no contract named "nope" in this repository');
    expect(thrown(() => releaseEvent("huge")).message).toBe('"huge" is not a release kind');
    temp.write("proto/order/v1/order.proto", dataTypeProto(PREFIX, "order"));
    temp.commit("order");
    expect(
      thrown(() => runReleaseCommand({ root: temp.root, contract: "order", kind: "minor" })).message,
    ).toBe("order has never been released");
    expect(
      runReleaseCommand({ root: temp.root, contract: "proto/order/v1", kind: "major" }).release.version,
    ).toBe("1.0.0");
  });

  it("recordRelease refuses a path the commit does not have", () => {
    const ledger = ReleaseLedger.read(temp.root);
    expect(() =>
      recordRelease(temp.repo, ledger, {
        name: "event",
        version: "1.5.0",
        path: "proto/event/v9",
        commit: temp.git("rev-parse", "HEAD"),
      }),
    ).toThrow(/^proto\/event\/v9 does not exist at commit [0-9a-f]{12}$/);
  });

  it("a released version can be vendored from a clone without tags once the ledger is committed", () => {
    temp.write(EVENT, dataTypeProto(PREFIX, "event", "  string id = 1;\n  string kind = 2;\n"));
    temp.commit("event: add kind");
    releaseEvent("minor");
    temp.commit("release event 1.1.0");
    addSourcesFamily(temp, PREFIX);

    const clone = TempRepo.clone(temp, { noTags: true });
    try {
      expect(clone.tags()).toEqual([]);
      expect(clone.read("sources/proto-pins.lock.yaml")).toContain("version: 1.1.0");
      expect(runVendorCommand({ root: clone.root, check: true }).findings).toEqual([]);
    } finally {
      clone.remove();
    }
  });

  it("releases a service contract in a family folder (its imports vendored beside it)", () => {
    addSourcesFamily(temp, PREFIX);
    expect(runReleaseCommand({ root: temp.root, contract: "source_service", kind: "major" }).release).toEqual(
      expect.objectContaining({ version: "1.0.0", path: "sources/proto/source_service/v1" }),
    );
  });
});

describe("flow proto release in a one-service-per-folder repository with another prefix", () => {
  it("releases the service contract, and refuses the vendored copy's name ambiguity-free", () => {
    const temp = perServiceLayoutRepo("acme.platform");
    try {
      addBillingService(temp, "acme.platform");
      const result = runReleaseCommand({ root: temp.root, contract: "billing_service", kind: "major" });
      expect(result.release.tag).toBe("proto-billing_service@v1.0.0");
      expect(temp.read("billing/proto/billing_service/CHANGELOG.md")).toContain("- billing service");
      // `order` names the authored contract in proto/, not the copy in billing/proto.
      temp.write(
        "proto/order/v1/order.proto",
        dataTypeProto("acme.platform", "order", "  string id = 1;\n  int64 at = 2;\n"),
      );
      temp.commit("order: at");
      expect(runReleaseCommand({ root: temp.root, contract: "order", kind: "minor" }).release.path).toBe(
        "proto/order/v1",
      );
    } finally {
      temp.remove();
    }
  });
});
