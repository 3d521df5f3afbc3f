import type { AllowedTry } from "./limits/auth-limits.js";

/**
 * Runs a try the limits let through and reports how it ended: `succeeded`
 * tells from the result (a wrong password is a failure); an error
 * `isFailure` recognises is a failure too; any other error (an outage)
 * takes the try back.
 */
export async function settled<T>(
  attempt: AllowedTry,
  run: () => Promise<T>,
  succeeded: (result: T) => boolean,
  isFailure: (err: unknown) => boolean = () => false,
): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (err) {
    await attempt.settle(isFailure(err) ? "failed" : "abandoned");
    throw err;
  }
  await attempt.settle(succeeded(result) ? "succeeded" : "failed");
  return result;
}
