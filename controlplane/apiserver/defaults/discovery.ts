// Defaults for discovery.k8s.io/v1 EndpointSlices (discovery/v1 SetDefaults_EndpointPort):
// a port without a name has the empty name, and its protocol is TCP.

import { objectsIn, setDefault } from './values.js';

export function defaultEndpointSlice(slice: Record<string, unknown>): void {
  for (const port of objectsIn(slice['ports'])) {
    if (typeof port['name'] !== 'string') port['name'] = '';
    setDefault(port, 'protocol', 'TCP');
  }
}
