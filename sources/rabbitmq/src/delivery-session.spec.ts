import { startTcpProxy, type TcpProxy } from "@flow/testing";
import { DeliverySession } from "./delivery-session";
import { describeWithRabbitmq, sourceConfig, TestBroker } from "./test-support/rabbitmq-for-tests";
import { settlesAtOnce } from "./test-support/settles-at-once";
import { until } from "./test-support/spawned-source";

describeWithRabbitmq("a delivery session's acknowledgements, against the real broker", () => {
  let broker: TestBroker;
  let proxy: TcpProxy;
  let session: DeliverySession | undefined;
  beforeEach(async () => {
    broker = await TestBroker.open();
    proxy = await startTcpProxy({ host: "127.0.0.1", port: 5672 });
  });
  afterEach(async () => {
    await session?.close();
    session = undefined;
    await proxy.close();
    await broker.close();
  });

  it("confirms each acknowledgement by a round trip; acknowledgements sent while one is out ride on the next", async () => {
    const queue = await broker.queue("session-acks");
    await broker.publish(
      queue,
      Array.from({ length: 6 }, (_, i) => ({ body: `m${i + 1}` })),
    );
    const config = sourceConfig(`amqp://guest:guest@127.0.0.1:${proxy.port}`, queue);
    const opened = await DeliverySession.open(config, 6);
    session = opened;
    await until(async () => opened.buffered === 6, "the six messages wait in the session");
    expect(await settlesAtOnce(opened.acknowledgementsConfirmed())).toBe(true);

    proxy.hold();
    const first = opened.acknowledgeUpTo(1);
    const second = opened.acknowledgeUpTo(3);
    const third = opened.acknowledgeUpTo(5);
    // Nothing the broker has not answered counts as confirmed.
    expect(await settlesAtOnce(opened.acknowledgementsConfirmed())).toBe(false);
    // A tag already acknowledged waits for the same confirmation as the newest one.
    const again = opened.acknowledgeUpTo(2);

    proxy.restore();
    expect(await first).toBe(true);
    // The first round trip left before the later acks: they wait for the next one.
    expect(await settlesAtOnce(third)).toBe(false);
    expect(await Promise.all([second, third, again])).toEqual([true, true, true]);
    expect(await settlesAtOnce(opened.acknowledgementsConfirmed())).toBe(true);

    // The broker has them: a cut connection returns only the one never acknowledged.
    proxy.cut();
    await until(async () => (await broker.consumers(queue)) === 0, "the session's consumer is gone");
    expect(await broker.ready(queue)).toBe(1);
    // With the channel gone nothing is confirmed, and nothing throws.
    expect(await opened.acknowledgeUpTo(6)).toBe(false);
  });
});
