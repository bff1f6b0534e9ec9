// Query parameters as Kubernetes decodes them (Go's strconv rules), shared by the API server and
// the agent, which both read options such as PodLogOptions and PodExecOptions from the query.

import { badRequest } from './errors.js';

/** Go's strconv.ParseBool, which decodes the options' booleans; 400 for anything else. */
export function parseGoBool(name: string, raw: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw badRequest(`invalid value for ${name}: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
}

/** A boolean query parameter: absent or empty is undefined. */
export function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  return raw === null || raw === '' ? undefined : parseGoBool(name, raw);
}
