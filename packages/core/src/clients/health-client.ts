// The grpc.health.v1 client lives in @flow/sdk; Core's API keeps offering it under its own name.
export { checkHealth, type HealthStatus } from "@flow/sdk";
