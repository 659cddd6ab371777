import { AckStatus } from "../../gen/consumer_service/v1/consumer";
import { type CheckResult, fail, pass, skip } from "../check-result";
import { announcedMessageBytes, type ConformContext } from "../conform-context";
import { familyClient } from "../family-clients";
import type { BatchAck, KitEventBatch, WriteRequest, WriteResponse } from "../stream-messages";
import { StreamRecorder } from "../stream-recorder";
import { answerCountCheck } from "./answer-accounting";

export const batchWrite = (sequence: bigint, batch: KitEventBatch): WriteRequest => ({
  request: { $case: "batch", value: { sequence, batch } },
});

/** Opens a Write stream, at the context's major, with the config of the conformance config. */
export function openWrite(context: ConformContext, acceptsBundles = false): StreamRecorder<WriteResponse> {
  const client = familyClient("consumer", context.instance.target, context.major);
  const recorder = new StreamRecorder<WriteResponse>(client.write() as never);
  recorder.call.on("close", () => client.close());
  recorder.call.write({
    request: {
      $case: "start",
      value: {
        configJson: JSON.stringify(context.config.config),
        stageId: "conform",
        ...(acceptsBundles ? { acceptsBundles } : {}),
      },
    },
  } satisfies WriteRequest);
  return recorder;
}

export function acks(recorder: StreamRecorder<WriteResponse>): BatchAck[] {
  return recorder.received.flatMap((response) =>
    response.response?.$case === "ack" ? [response.response.value] : [],
  );
}

/**
 * The data plane of a consumer: every batch acknowledged once with its own sequence and WRITTEN,
 * Flush answered with its token, bad events refused as a permanent failure with a reason, every
 * kind of data the major carries written, and a batch as large as the announced limit written.
 */
export async function consumerChecks(context: ConformContext): Promise<CheckResult[]> {
  const { config, timeoutMs, events: major } = context;
  const recorder = openWrite(context);
  const sent: bigint[] = [];
  const send = (sequence: bigint, batch: KitEventBatch): void => {
    sent.push(sequence);
    recorder.call.write(batchWrite(sequence, batch));
  };
  const acked = (sequence: bigint) => () => acks(recorder).some((ack) => ack.sequence === sequence);
  // Waits for the ack of `sequence`, or for as many acks as batches sent (a service that acks with
  // wrong sequences is not waited for until the time is up).
  const settled = (sequence: bigint) => () => acked(sequence)() || acks(recorder).length >= sent.length;
  send(201n, { events: major.sampleEvents(config.events, `conform-${process.pid}-${Date.now()}-a`) });
  send(202n, { events: major.sampleEvents(config.events, `conform-${process.pid}-${Date.now()}-b`) });
  recorder.call.write({ request: { $case: "flush", value: { token: 77n } } } satisfies WriteRequest);
  const flushed = () =>
    recorder.received.some(
      (response) => response.response?.$case === "flushed" && response.response.value.token === 77n,
    );
  await recorder.until(() => settled(202n)() && flushed(), timeoutMs);

  const results: CheckResult[] = [];
  const notWritten = acks(recorder).filter(
    (ack) => sent.includes(ack.sequence) && ack.status !== AckStatus.ACK_STATUS_WRITTEN,
  );
  results.push(
    notWritten.length === 0 && acked(202n)()
      ? pass("data.written", "the sample batches are acknowledged WRITTEN")
      : fail(
          "data.written",
          notWritten.length > 0
            ? `sample batches not written: ${notWritten.map((ack) => `${ack.sequence} ${AckStatus[ack.status]} ${ack.reason}`).join("; ")}`
            : `no ack within ${timeoutMs} ms (${recorder.ended ?? "stream open"})`,
          "write the sample events of the conformance config and answer ACK_STATUS_WRITTEN once they are durable",
        ),
  );
  results.push(
    flushed()
      ? pass("data.flush", "Flush answered with its token")
      : fail(
          "data.flush",
          "Flush (token 77) got no Flushed answer",
          "answer every Flush with Flushed{token} once what came before it is durable",
        ),
  );

  if (config.badEvents.length > 0) {
    send(203n, { events: major.sampleEvents(config.badEvents, `conform-${process.pid}-${Date.now()}-bad`) });
    send(204n, { events: major.sampleEvents(config.events, `conform-${process.pid}-${Date.now()}-c`) });
    await recorder.until(settled(204n), timeoutMs);
    const ack = acks(recorder).find((candidate) => candidate.sequence === 203n);
    results.push(
      ack?.status === AckStatus.ACK_STATUS_PERMANENT_FAILURE && ack.reason.trim() !== "" && acked(204n)()
        ? pass("data.dead-letters", `bad events refused as a permanent failure: ${ack.reason}`)
        : fail(
            "data.dead-letters",
            !ack
              ? "the batch of bad events got no ack"
              : ack.status !== AckStatus.ACK_STATUS_PERMANENT_FAILURE
                ? `the batch of bad events was answered ${AckStatus[ack.status]}`
                : ack.reason.trim() === ""
                  ? "the permanent failure has no reason"
                  : "the stream stopped acknowledging after the bad events",
            "answer a batch that can never be written ACK_STATUS_PERMANENT_FAILURE with the reason (it goes to the dead-letter destination), and go on",
          ),
    );
  } else {
    results.push(skip("data.dead-letters", `no "badEvents" in ${config.origin}`));
  }

  const spec = config.events[0];
  const kinds = spec ? major.dataKindEvents(spec, `conform-${process.pid}-${Date.now()}-kind`) : [];
  if (kinds.length > 0) {
    send(205n, { events: kinds.map(({ event }) => event) });
    await recorder.until(settled(205n), timeoutMs);
    const ack = acks(recorder).find((candidate) => candidate.sequence === 205n);
    const names = kinds.map(({ kind }) => kind).join(", ");
    results.push(
      ack?.status === AckStatus.ACK_STATUS_WRITTEN
        ? pass("data.kinds", `a batch of one event per data kind (${names}) is written`)
        : fail(
            "data.kinds",
            `a batch of one event per data kind (${names}) ${ack ? `was answered ${AckStatus[ack.status]} ${ack.reason}` : `got no ack (${recorder.ended ?? "no answer"})`}`,
            "write every kind of data the contract carries: text_data as text, binary_data and proto_data as bytes (proto_data's type URL is its dataschema)",
          ),
    );
  }

  const limit = announcedMessageBytes(context.component);
  const template = major.sampleEvents(config.events, "conform-big-template")[0];
  if (template) {
    send(206n, {
      events: major.padded(template, limit - 4096, `conform-${process.pid}-${Date.now()}-big`, "data"),
    });
    await recorder.until(settled(206n), Math.max(timeoutMs, 60_000));
    const ack = acks(recorder).find((candidate) => candidate.sequence === 206n);
    results.push(
      ack?.status === AckStatus.ACK_STATUS_WRITTEN
        ? pass(
            "data.message-limit",
            `a ${limit - 4096}-byte batch (the announced limit is ${limit}) is written`,
          )
        : fail(
            "data.message-limit",
            `a batch of about ${limit - 4096} bytes, within the announced max_message_bytes ${limit}, ${ack ? `was answered ${AckStatus[ack.status]} ${ack.reason}` : `got no ack (${recorder.ended ?? "no answer"})`}`,
            "announce in Limits.max_message_bytes exactly what your gRPC server and your system accept",
          ),
    );
  }
  await recorder.finish(timeoutMs);
  results.unshift(
    answerCountCheck(
      sent,
      acks(recorder).map((ack) => ack.sequence),
      "answer every WriteBatch with one BatchAck whose sequence is the batch's",
    ),
  );
  return results;
}
