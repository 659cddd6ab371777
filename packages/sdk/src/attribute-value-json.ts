import { type AttributeValue, timestampToRfc3339 } from "./flow-event";

/** An extension attribute's value as the CloudEvents JSON format writes it. */
export function attributeValueJson(value: AttributeValue): string | number | boolean {
  switch (value.$case) {
    case "binaryValue":
      return Buffer.from(value.value).toString("base64");
    case "timestampValue":
      return timestampToRfc3339(value.value);
    default:
      return value.value;
  }
}
