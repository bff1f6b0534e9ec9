// Where a node's claim on its name is kept: the Secret `kube-system/<node>.node-password.skiff`
// (written by the API server's join, controlplane/apiserver/nodeidentity.ts; removed with the
// Node by the nodepassword controller, as k3s removes its node-password Secrets).

export const NODE_PASSWORD_NAMESPACE = 'kube-system';

export function nodePasswordSecretName(nodeName: string): string {
  return `${nodeName}.node-password.skiff`;
}
