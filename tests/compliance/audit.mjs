// Runs graphql-http's server audits against a live hub and prints one JSON summary line.
// Usage: node audit.mjs URL KEY
import { auditServer } from 'graphql-http';

const [url, key] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
const summary = { failures: [] };
for (const level of ['MUST', 'SHOULD', 'MAY']) {
  const audits = results.filter((r) => r.name.startsWith(level));
  summary[level] = { ok: audits.filter((r) => r.status === 'ok').length, total: audits.length };
}
for (const r of results) {
  if (r.status !== 'ok') summary.failures.push({ name: r.name, status: r.status, reason: r.reason });
}
console.log(JSON.stringify(summary));
