// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the pipeline file's own interpolation syntax, written literally on purpose.
import { interpolateEnvironment, offsetOfReference, resolvePlainScalar } from "./env-interpolation";

describe("interpolateEnvironment", () => {
  const env = { HOST: "db.internal", EMPTY: "", PORT: "5432" };

  it("fills in set variables, several per string", () => {
    expect(interpolateEnvironment("postgres://${HOST}:${PORT}/flow", env)).toEqual({
      value: "postgres://db.internal:5432/flow",
      problems: [],
    });
  });

  it("uses the default when the variable is unset or empty, like the shell's :-", () => {
    expect(interpolateEnvironment("${MISSING:-fallback}", env).value).toBe("fallback");
    expect(interpolateEnvironment("${EMPTY:-fallback}", env).value).toBe("fallback");
    expect(interpolateEnvironment("${HOST:-fallback}", env).value).toBe("db.internal");
    expect(interpolateEnvironment("${MISSING:-}", env).value).toBe("");
    expect(interpolateEnvironment("${MISSING:-a:-b c}", env).value).toBe("a:-b c");
  });

  it("keeps a set but empty variable without default empty", () => {
    expect(interpolateEnvironment("[${EMPTY}]", env)).toEqual({ value: "[]", problems: [] });
  });

  it("reports an unset variable without default, with which reference it is", () => {
    const result = interpolateEnvironment("${HOST} ${NOPE}", env);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.occurrence).toBe(1);
    expect(result.problems[0]?.message).toContain("environment variable NOPE is not set");
    expect(result.problems[0]?.hint).toContain("${NOPE:-value}");
  });

  it("writes $${ as a literal ${ and leaves other dollars alone", () => {
    expect(interpolateEnvironment("cost $5, literal $${HOST}, real ${HOST}", env)).toEqual({
      value: "cost $5, literal ${HOST}, real db.internal",
      problems: [],
    });
  });

  it("reports an unterminated reference and a malformed name", () => {
    expect(interpolateEnvironment("x ${HOST", env).problems[0]?.message).toContain('unterminated "${"');
    expect(interpolateEnvironment("${1BAD}", env).problems[0]?.message).toContain('found "${1BAD}"');
    expect(interpolateEnvironment("${A B}", env).problems[0]?.message).toContain("expected ${NAME}");
  });
});

describe("offsetOfReference", () => {
  it("counts unescaped references only", () => {
    const text = "$${skip} ${A} ${B}";
    expect(offsetOfReference(text, 0)).toBe(text.indexOf("${A}"));
    expect(offsetOfReference(text, 1)).toBe(text.indexOf("${B}"));
    expect(offsetOfReference(text, 2)).toBe(-1);
  });
});

describe("resolvePlainScalar", () => {
  it("reads numbers, booleans and null as the YAML 1.2 core schema does", () => {
    expect(resolvePlainScalar("100")).toBe(100);
    expect(resolvePlainScalar("-2.5e3")).toBe(-2500);
    expect(resolvePlainScalar("0x1f")).toBe(31);
    expect(resolvePlainScalar("0o17")).toBe(15);
    expect(resolvePlainScalar("true")).toBe(true);
    expect(resolvePlainScalar("FALSE")).toBe(false);
    expect(resolvePlainScalar("~")).toBeNull();
  });

  it("leaves everything else a string", () => {
    expect(resolvePlainScalar("100x")).toBe("100x");
    expect(resolvePlainScalar("yes")).toBe("yes");
    expect(resolvePlainScalar("")).toBe("");
    expect(resolvePlainScalar("1.2.3")).toBe("1.2.3");
  });
});
