/**
 * The public API as a client developer meets it with curl: Connect protocol,
 * JSON over HTTP/1.1, `POST /<service>/<Method>`.
 */
export interface ApiResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the JSON reply of whichever method was called; each test reads the fields it asserts
  body: Record<string, any>;
  /** The response headers (a throttled call's retry-after, for one). */
  headers: Headers;
}

/** `extraHeaders`: for calling the account service itself rather than a gateway (a service token). */
export async function callApi(baseUrl: string, method: string, body: unknown, token?: string, extraHeaders: Record<string, string> = {}): Promise<ApiResult> {
  const headers: Record<string, string> = { "content-type": "application/json", ...extraHeaders };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}/parley.account.v1.AccountService/${method}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as ApiResult["body"]), headers: res.headers };
}
