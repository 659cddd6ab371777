/**
 * The checkpoint of a batch: the stream (session) that received it and the delivery tag of its
 * last message. Delivery tags count per channel, so a tag means something only together with
 * its session; a commit notice that names a session which is gone acknowledges nothing.
 */
export interface DeliveryPosition {
  session: string;
  deliveryTag: number;
}

export function encodeDeliveryPosition(position: DeliveryPosition): Buffer {
  return Buffer.from(JSON.stringify(position), "utf8");
}

/** The position, or undefined for bytes this source did not write. */
export function decodeDeliveryPosition(bytes: Buffer): DeliveryPosition | undefined {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as Partial<DeliveryPosition>;
    if (typeof value.session === "string" && Number.isSafeInteger(value.deliveryTag))
      return { session: value.session, deliveryTag: value.deliveryTag as number };
  } catch {
    // Not ours.
  }
  return undefined;
}
