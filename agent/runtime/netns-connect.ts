// A helper process, not a module: the agent starts it inside a pod's network namespace
// (`nsenter --net=/proc/<sandbox pid>/ns/net -- node netns-connect.js`, see pod-dial.ts) and
// asks it, over the IPC channel, for connections to the pod's localhost ports. Each connected
// socket goes back over the channel: a socket stays in the namespace it was made in wherever its
// descriptor travels, so the agent reads and writes it itself. The helper reads nothing from the
// sockets (bytes the pod sends first stay in the kernel for the agent) and ends with its channel.

import type { Socket } from 'node:net';
import type { NetnsConnectReply, NetnsConnectRequest } from './pod-dial.js';
import { connectLocalhost } from './pod-dial.js';

if (!process.send) {
  process.stderr.write('netns-connect: run by the agent, with an IPC channel\n');
  process.exit(2);
}

process.on('message', (request: NetnsConnectRequest) => {
  const reply = (message: NetnsConnectReply, socket?: Socket) => process.send!(message, socket);
  void connectLocalhost(request.port, " inside the pod's network namespace").then(
    (socket) => reply({ id: request.id, connected: true }, socket),
    (err: Error) => reply({ id: request.id, connected: false, error: err.message }),
  );
});
