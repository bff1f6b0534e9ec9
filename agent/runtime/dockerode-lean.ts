// dockerode loads two transports the agent never uses, eagerly, at require time:
// - gRPC and protobuf (dockerode's lib/session.js), for BuildKit sessions in `docker.buildImage`;
// - ssh2 and its crypto (docker-modem's lib/ssh.js), for `ssh://` Docker hosts, which
//   `dockerFromHost` refuses (unix:// and tcp:// only).
// Together about 20 MB of every agent's memory (bench/agent.ts). Importing this module before
// dockerode puts an inert module for each of those two files into Node's CommonJS cache, so
// their dependencies are never loaded; calling one fails with a clear message. If a future
// dockerode or docker-modem moves a file, its resolve below fails softly and it loads as usual.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

function inert(path: string, what: string): void {
  if (require.cache[path]) return;
  const unavailable = (): never => {
    throw new Error(`${what} is not available in the Skiff agent`);
  };
  require.cache[path] = { id: path, filename: path, loaded: true, exports: unavailable, children: [], paths: [] } as unknown as NodeJS.Module;
}

function resolveOptional(request: string, from?: string): string | undefined {
  try {
    return require.resolve(request, from ? { paths: [from] } : undefined);
  } catch {
    return undefined; // the layout changed: nothing to skip.
  }
}

const session = resolveOptional('dockerode/lib/session.js');
if (session) {
  inert(session, 'BuildKit sessions (docker.buildImage with a session)');
  // docker-modem as dockerode itself resolves it (hoisted or nested).
  const ssh = resolveOptional('docker-modem/lib/ssh.js', dirname(session));
  if (ssh) inert(ssh, 'An ssh:// Docker host');
}
