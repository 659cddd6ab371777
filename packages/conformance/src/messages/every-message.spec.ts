import { hex, messageCodecsOf, withoutUnknownFields } from "../test-support/message-codec";
import { ALL_CONTRACTS } from "../test-support/samples/all-contracts";
import { concatBytes, unknownFieldBytes } from "../test-support/wire-bytes";

/**
 * Every message of every contract, through every codec path ts-proto generates: binary
 * (encode/decode), JSON (toJSON/fromJSON, through real JSON text), defaults, and fields the
 * contract does not know. The coverage test fails when a message has no sample, so a message
 * added to a contract cannot slip past these checks.
 */
describe.each(ALL_CONTRACTS.map((contract) => [contract.contract, contract] as const))(
  "%s",
  (_name, contract) => {
    const codecs = messageCodecsOf(contract.module);
    const cases = [...codecs].flatMap(([message, codec]) =>
      (contract.samples[message] ?? []).map(
        (sample, index) => [`${message} #${index + 1}`, codec, sample] as const,
      ),
    );

    it("has samples of every message the generated module defines, and of nothing else", () => {
      expect(Object.keys(contract.samples).sort()).toEqual([...codecs.keys()].sort());
      for (const [message, samples] of Object.entries(contract.samples)) {
        expect([message, samples.length > 0]).toEqual([message, true]);
      }
    });

    describe.each(cases)("%s", (_label, codec, sample) => {
      const bytes = codec.encode(sample).finish();

      it("decodes its own encoding to an equal message, and re-encodes to the same bytes", () => {
        const decoded = codec.decode(bytes);
        expect(withoutUnknownFields(decoded)).toEqual(sample);
        expect(hex(codec.encode(decoded).finish())).toBe(hex(bytes));
      });

      it("survives toJSON -> JSON text -> fromJSON, and toJSON is stable", () => {
        const json = codec.toJSON(sample);
        // JSON.stringify throws on a bigint: 64-bit integers must come out as strings.
        const text = JSON.stringify(json);
        const parsed: unknown = JSON.parse(text);
        expect(parsed).toEqual(json);
        const back = codec.fromJSON(parsed);
        expect(withoutUnknownFields(back)).toEqual(sample);
        expect(codec.toJSON(back)).toEqual(json);
      });

      it("keeps fields it does not know through decode -> encode, byte for byte", () => {
        const withUnknown = concatBytes(bytes, unknownFieldBytes());
        const decoded = codec.decode(withUnknown);
        expect(withoutUnknownFields(decoded)).toEqual(sample);
        expect(hex(codec.encode(decoded).finish())).toBe(hex(withUnknown));
        // and they survive a second hop
        expect(hex(codec.encode(codec.decode(codec.encode(decoded).finish())).finish())).toBe(
          hex(withUnknown),
        );
      });
    });

    describe.each([...codecs])("%s defaults", (_message, codec) => {
      it("writes nothing for a message with only default values, and reads nothing back as the defaults", () => {
        const empty = withoutUnknownFields(codec.create());
        expect(codec.encode(empty).finish()).toHaveLength(0);
        expect(withoutUnknownFields(codec.decode(new Uint8Array(0)))).toEqual(empty);
        expect(codec.toJSON(empty)).toEqual({});
        expect(withoutUnknownFields(codec.fromJSON({}))).toEqual(empty);
      });
    });
  },
);
