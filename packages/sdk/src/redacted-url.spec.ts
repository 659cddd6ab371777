import { redactedUrl } from "./redacted-url";

describe("redactedUrl", () => {
  it("hides the password and keeps the rest", () => {
    expect(redactedUrl("postgres://app:s3cret@db.example:5432/orders?sslmode=require")).toBe(
      "postgres://app:***@db.example:5432/orders?sslmode=require",
    );
    expect(redactedUrl("redis://:p%40ss@127.0.0.1:6379/0")).toBe("redis://:***@127.0.0.1:6379/0");
  });

  it("leaves a URL without a password, and text that is no URL, as they are", () => {
    expect(redactedUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
    expect(redactedUrl("postgres://app@db/orders")).toBe("postgres://app@db/orders");
    expect(redactedUrl("not a url")).toBe("not a url");
  });
});
