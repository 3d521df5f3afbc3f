/**
 * A Retry-After header in ms: delay-seconds or an HTTP date (RFC 9110
 * section 10.2.3); undefined when absent or unreadable.
 */
export function retryAfterMs(value: unknown): number | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
