import type { ServiceError } from "@grpc/grpc-js";

/** A unary call of a generated client as a promise: `unary((done) => client.describe({}, done))`. */
export function unary<Response>(
  call: (done: (error: ServiceError | null, response: Response) => void) => unknown,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    call((error, response) => (error ? reject(error) : resolve(response)));
  });
}
