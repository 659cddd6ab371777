import { parseProtoOutline } from "./proto-outline";
import { ProtoSyntaxError } from "./proto-tokenizer";

function syntaxError(text: string): { message: string; line: number; col: number } {
  try {
    parseProtoOutline(text);
  } catch (error) {
    if (error instanceof ProtoSyntaxError)
      return { message: error.message, line: error.line, col: error.col };
    throw error;
  }
  throw new Error("expected a syntax error");
}

describe("parseProtoOutline", () => {
  it("finds syntax, package, imports and definitions with their positions, skipping comments and options", () => {
    const outline = parseProtoOutline(`// A comment with "quotes" and { braces
/* block
   comment */ syntax = 'proto3';
package acme.orders_service.v1;

import "order/v1/order.proto";
import public "money/v1/money.proto";
option java_package = "com.acme";
option (custom) = { a: 1 nested { b: "}" } };

service OrdersService {
  rpc Get(GetRequest) returns (GetResponse) { option idempotency_level = NO_SIDE_EFFECTS; }
}
message GetRequest { message Inner { string s = 1 [json_name = "x}"]; } }
enum Kind { KIND_UNSPECIFIED = 0; }
;
`);
    expect(outline.syntax).toEqual({ value: "proto3", line: 3, col: 15 });
    expect(outline.package).toEqual({ name: "acme.orders_service.v1", line: 4, col: 1 });
    expect(outline.imports).toEqual([
      { path: "order/v1/order.proto", line: 6, col: 1 },
      { path: "money/v1/money.proto", modifier: "public", line: 7, col: 1 },
    ]);
    expect(outline.definitions.map((d) => `${d.kind} ${d.name} ${d.line}:${d.col}`)).toEqual([
      "service OrdersService 11:1",
      "message GetRequest 14:1",
      "enum Kind 15:1",
    ]);
  });

  it("reads string escapes", () => {
    expect(parseProtoOutline('syntax = "proto\\x33";\nimport "a\\"b";').imports[0]?.path).toBe('a"b');
  });

  it("reports where the source stops being protobuf", () => {
    expect(syntaxError('syntax = "proto3"\npackage a;')).toEqual({
      message: 'expected ";" after syntax = "proto3", found "package"',
      line: 2,
      col: 1,
    });
    expect(syntaxError("message A {\n  string s = 1;\n")).toEqual({
      message: '"{" opened here is never closed',
      line: 1,
      col: 11,
    });
    expect(syntaxError("/* never closed")).toEqual({ message: "unterminated /* comment", line: 1, col: 1 });
    expect(syntaxError('import "a.proto;\n')).toEqual({ message: "unterminated string", line: 1, col: 8 });
    expect(syntaxError("package a.b.;")).toEqual({
      message: 'expected ";" after package a.b, found "."',
      line: 1,
      col: 12,
    });
    expect(syntaxError("messages A {}")).toMatchObject({
      message: expect.stringMatching(/^unexpected "messages"/),
    });
    expect(syntaxError('package a;\nsyntax = "proto3";')).toMatchObject({
      message: "the syntax statement must come first",
      line: 2,
    });
    expect(syntaxError("}")).toMatchObject({
      message: expect.stringMatching(/^unexpected "}"/),
      line: 1,
      col: 1,
    });
    expect(syntaxError('syntax = "proto3"; #')).toMatchObject({
      message: 'unexpected character "#"',
      col: 20,
    });
  });

  it("reads adjacent string literals as one, as protoc does", () => {
    const outline = parseProtoOutline(`syntax = "pro" 'to3';\nimport "event/" "v1/event.proto";\n`);
    expect(outline.syntax).toEqual({ value: "proto3", line: 1, col: 1 });
    expect(outline.imports).toEqual([{ path: "event/v1/event.proto", line: 2, col: 1 }]);
  });
});
