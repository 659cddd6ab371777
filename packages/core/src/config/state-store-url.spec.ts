import { resolveStateStoreUrl } from "./state-store-url";

describe("resolveStateStoreUrl", () => {
  it("resolves a relative sqlite path against the pipeline's folder", () => {
    expect(resolveStateStoreUrl("sqlite:.flow/state.db", "/srv/pipelines")).toEqual({
      kind: "sqlite",
      url: "sqlite:/srv/pipelines/.flow/state.db",
      path: "/srv/pipelines/.flow/state.db",
    });
  });

  it("keeps absolute sqlite paths, in both spellings, and :memory:", () => {
    expect(resolveStateStoreUrl("sqlite:/var/lib/flow.db", "/srv")?.url).toBe("sqlite:/var/lib/flow.db");
    expect(resolveStateStoreUrl("sqlite:///var/lib/flow.db", "/srv")?.url).toBe("sqlite:/var/lib/flow.db");
    expect(resolveStateStoreUrl("sqlite::memory:", "/srv")).toEqual({
      kind: "sqlite",
      url: "sqlite::memory:",
      path: ":memory:",
    });
  });

  it("passes PostgreSQL URLs on unchanged", () => {
    expect(resolveStateStoreUrl("postgres://flow:pw@db:5432/flow", "/srv")).toEqual({
      kind: "postgres",
      url: "postgres://flow:pw@db:5432/flow",
    });
    expect(resolveStateStoreUrl("postgresql://db/flow", "/srv")?.kind).toBe("postgres");
  });

  it("rejects other schemes and a sqlite URL without a path", () => {
    expect(resolveStateStoreUrl("mysql://db/flow", "/srv")).toBeUndefined();
    expect(resolveStateStoreUrl("sqlite://", "/srv")).toBeUndefined();
  });
});
