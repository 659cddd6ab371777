import path from "node:path";
import { UserError } from "@flow/errors";
import { DEFAULT_POSTGRES_SCHEMA, maskPassword, parseStateStoreUrl } from "./state-store-url";

describe("parseStateStoreUrl", () => {
  const base = "/srv/pipelines";

  it("resolves sqlite: paths against the base directory, or takes them as absolute", () => {
    expect(parseStateStoreUrl("sqlite:.flow/state.db", base)).toEqual({
      kind: "sqlite",
      file: path.join(base, ".flow/state.db"),
    });
    expect(parseStateStoreUrl("sqlite:/var/lib/flow.db", base)).toEqual({
      kind: "sqlite",
      file: "/var/lib/flow.db",
    });
    expect(parseStateStoreUrl("sqlite:///var/lib/flow.db", base)).toEqual({
      kind: "sqlite",
      file: "/var/lib/flow.db",
    });
    expect(parseStateStoreUrl("SQLite://state.db", base)).toEqual({
      kind: "sqlite",
      file: path.join(base, "state.db"),
    });
  });

  it("gives sqlite: without a path the default file, and knows :memory:", () => {
    expect(parseStateStoreUrl("sqlite:", base)).toEqual({
      kind: "sqlite",
      file: path.join(base, ".flow/state.db"),
    });
    expect(parseStateStoreUrl("sqlite::memory:", base)).toEqual({ kind: "sqlite", file: ":memory:" });
  });

  it("reads postgres:// and postgresql:// URLs, taking out the schema parameter", () => {
    expect(
      parseStateStoreUrl("postgres://flow:s3cret@db.example:6543/state?schema=team_a&sslmode=require", base),
    ).toEqual({
      kind: "postgres",
      connectionString: "postgres://flow:s3cret@db.example:6543/state?sslmode=require",
      schema: "team_a",
      host: "db.example",
      port: 6543,
      display: "postgres://flow:***@db.example:6543/state?schema=team_a&sslmode=require",
    });
    expect(parseStateStoreUrl("postgresql://localhost/flow", base)).toMatchObject({
      kind: "postgres",
      schema: DEFAULT_POSTGRES_SCHEMA,
      host: "localhost",
      port: 5432,
    });
    expect(parseStateStoreUrl("postgres:///flow?host=/var/run/postgresql", base)).toMatchObject({
      host: "/var/run/postgresql",
    });
  });

  it("rejects an unknown scheme, naming the URL and the accepted forms", () => {
    const parse = () => parseStateStoreUrl("mysql://root:pw@localhost/flow", base);
    expect(parse).toThrow(UserError);
    expect(parse).toThrow('unsupported state store URL "mysql://root:***@localhost/flow" (scheme "mysql:")');
    try {
      parse();
    } catch (error) {
      expect((error as UserError).hint).toMatch(/sqlite:<path>.*postgres:\/\//);
    }
    expect(() => parseStateStoreUrl("state.db", base)).toThrow(
      'unsupported state store URL "state.db" (no scheme)',
    );
  });

  it("rejects a schema name that is not a plain identifier", () => {
    expect(() => parseStateStoreUrl('postgres://h/db?schema=x";drop', base)).toThrow(/invalid schema/);
    expect(() => parseStateStoreUrl("postgres://h/db?schema=Upper", base)).toThrow(UserError);
  });

  it("rejects a malformed PostgreSQL URL", () => {
    expect(() => parseStateStoreUrl("postgres://[oops/db", base)).toThrow("is not a valid PostgreSQL URL");
  });
});

describe("maskPassword", () => {
  it("hides the password and nothing else", () => {
    expect(maskPassword("postgres://u:p%40ss@h:1/d")).toBe("postgres://u:***@h:1/d");
    expect(maskPassword("postgres://u@h/d")).toBe("postgres://u@h/d");
    expect(maskPassword("sqlite:a:b@c")).toBe("sqlite:a:b@c");
  });
});
