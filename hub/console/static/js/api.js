// The console's only channel to the hub: the public GraphQL API, with the operator's key.
const KEY = "memberhub.console.key";

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function signIn(key) {
  sessionStorage.setItem(KEY, key);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/**
 * Run one operation. Answers ``{data, errors}``; throws ApiError when there is no data at
 * all. A 401 forgets the key and tells the app (the "console:unauthorised" event).
 */
export async function request(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        Authorization: `Bearer ${apiKey() ?? ""}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(String(error), "NETWORK", 0);
  }
  if (response.status === 401) {
    signOut();
    window.dispatchEvent(new CustomEvent("console:unauthorised"));
    throw new ApiError("unauthenticated", "UNAUTHENTICATED", 401);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, response.status === 429 ? "RATE_LIMITED" : "HTTP", response.status);
  }
  const errors = body.errors ?? [];
  if (response.status === 429) throw new ApiError(errors[0]?.message ?? "rate limited", "RATE_LIMITED", 429);
  if (!body.data) {
    const first = errors[0] ?? {};
    throw new ApiError(first.message ?? `HTTP ${response.status}`, first.extensions?.code ?? "ERROR", response.status);
  }
  return { data: body.data, errors };
}

/** The data of an operation that must answer without errors; the first error otherwise. */
export async function query(text, variables = {}) {
  const { data, errors } = await request(text, variables);
  if (errors.length) {
    const first = errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? "ERROR", 200);
  }
  return data;
}
