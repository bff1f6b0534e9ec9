// Who may call the agent's endpoint. Like a kubelet configured with `--client-ca-file`, the agent
// authenticates callers by TLS client certificate: one signed by the cluster CA, for client use,
// in group (O=) `system:masters`. Only the API server holds the CA key, so only it can mint
// such a certificate; it presents one when it proxies `kubectl logs` and reads usage for
// `kubectl top`. Nodes' own certificates are for serving only and are refused as client
// certificates by TLS itself (extended key usage), so one node cannot read another's logs.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export const TRUSTED_CLIENT_GROUP = 'system:masters';

export type CallerCheck = { ok: true; name: string } | { ok: false; code: 401 | 403; message: string };

function organizations(subject: Record<string, string | string[] | undefined> | undefined): string[] {
  const o = subject?.['O'];
  return o === undefined ? [] : Array.isArray(o) ? o : [o];
}

export function checkCaller(req: IncomingMessage): CallerCheck {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) {
    // No certificate, or one the cluster CA did not sign for client use.
    return { ok: false, code: 401, message: 'Unauthorized' };
  }
  const peer = socket.getPeerCertificate();
  const subject = peer.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const name = String(subject?.['CN'] ?? '');
  if (!organizations(subject).includes(TRUSTED_CLIENT_GROUP)) {
    return { ok: false, code: 403, message: `Forbidden (user=${name}, verb=get): only the API server may call the agent` };
  }
  return { ok: true, name };
}
