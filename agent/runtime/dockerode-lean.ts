// dockerode loads gRPC and protobuf eagerly (its lib/session.js), only to support BuildKit
// sessions in `docker.buildImage`, which Skiff never calls. They cost every agent about 20 MB of
// memory. Importing this module before dockerode puts an inert module for that one file into
// Node's CommonJS cache, so gRPC is never loaded; calling it fails with a clear message. If a
// future dockerode moves the file, the resolve below fails softly and dockerode loads as usual.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function withoutSessions(): never {
  throw new Error('BuildKit sessions (docker.buildImage with a session) are not available in the Skiff agent');
}

try {
  const sessionPath = require.resolve('dockerode/lib/session.js');
  if (!require.cache[sessionPath]) {
    require.cache[sessionPath] = {
      id: sessionPath,
      filename: sessionPath,
      loaded: true,
      exports: withoutSessions,
      children: [],
      paths: [],
    } as unknown as NodeJS.Module;
  }
} catch {
  // dockerode's layout changed: nothing to skip.
}
