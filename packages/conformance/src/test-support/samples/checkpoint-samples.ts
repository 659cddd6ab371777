import * as checkpoint from "../../gen/checkpoint/v1/checkpoint";
import { type ContractSamples, samplesOf } from "./contract-samples";

const { Checkpoint } = checkpoint;

export const sampleCheckpoint = Checkpoint.fromPartial({
  position: Buffer.from([0x00, 0xff, 0x10, 0x80]),
  description: "orders.jsonl byte 1048576",
});

export const checkpointSamples: ContractSamples = {
  contract: "checkpoint/v1",
  module: checkpoint,
  samples: { Checkpoint: samplesOf(Checkpoint, sampleCheckpoint) },
};
