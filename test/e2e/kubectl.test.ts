// The machine's real kubectl against `skiff server`: the commands users type, with the output
// Kubernetes users expect.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { eventually, KUBECTL, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { SCENARIO_1_HELLO_WORLD, SCENARIO_3_NGINX } from '../fixtures/scenarios.js';

const scenario3 = (replicas: number, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: web
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-service
  labels:
    app: nginx
spec:
  selector:
    app: nginx
  ports:
  - name: nginx-port
    protocol: TCP
    port: 80
    nodePort: 30000
    targetPort: 80
  type: NodePort
`;

const pod = (name: string, labels: Record<string, string>) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('kubectl against skiff server', () => {
  let c: TestCluster;
  const ok = async (args: string[], input?: string) => {
    const res = await c.kubectl(args, { input });
    assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
    return res.stdout;
  };

  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c.close();
  });

  test('kubectl version picks the 1.32 client from /version', async () => {
    const out = await ok(['version']);
    assert.match(out, /Server Version: v1\.32\./);
  });

  test('scenario 1: create a Deployment and a NodePort Service, then get them', async () => {
    const created = await ok(['create', '-f', '-'], SCENARIO_1_HELLO_WORLD);
    assert.match(created, /deployment\.apps\/hello-world created/);
    assert.match(created, /service\/hello-world created/);
    const svc = await ok(['get', 'service', 'hello-world', '-o', 'wide']);
    const [header, row] = svc.trim().split('\n');
    assert.match(header!, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR$/);
    assert.match(row!, /^hello-world\s+NodePort\s+10\.43\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+\S+\s+app=hello-world$/);
    const deploy = await ok(['get', 'deployments']);
    assert.match(deploy, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    assert.match(deploy, /hello-world\s+0\/3\s+0\s+0\s+/);
    const again = await c.kubectl(['create', '-f', '-'], { input: SCENARIO_1_HELLO_WORLD });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /Error from server \(AlreadyExists\): error when creating "STDIN": deployments\.apps "hello-world" already exists/);
  });

  test('apply: unchanged says unchanged, a change says configured and keeps list fields it did not touch', async () => {
    const first = await ok(['apply', '-f', '-'], scenario3(1, 'nginx:1.26'));
    assert.match(first, /deployment\.apps\/nginx-deployment created/);
    assert.match(first, /service\/nginx-service created/);
    const same = await ok(['apply', '-f', '-'], scenario3(1, 'nginx:1.26'));
    assert.match(same, /deployment\.apps\/nginx-deployment unchanged/);
    assert.match(same, /service\/nginx-service unchanged/);
    // Someone else adds an env var the manifest does not mention.
    await ok(['patch', 'deployment', 'nginx-deployment', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"EXTRA","value":"1"}]}]}}}}']);
    const changed = await ok(['apply', '-f', '-'], scenario3(2, 'nginx:1.27'));
    assert.match(changed, /deployment\.apps\/nginx-deployment configured/);
    const live = JSON.parse(await ok(['get', 'deployment', 'nginx-deployment', '-o', 'json']));
    const container = live.spec.template.spec.containers[0];
    assert.equal(live.spec.replicas, 2);
    assert.equal(container.image, 'nginx:1.27');
    assert.deepEqual(container.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.deepEqual(container.env.map((e: any) => e.name).sort(), ['EXTRA', 'MODE']);
    const svc = JSON.parse(await ok(['get', 'service', 'nginx-service', '-o', 'json']));
    assert.equal(svc.spec.ports[0].nodePort, 30000);
  });

  test('the requested nodePort of another Service collides with a 422 naming the port', async () => {
    const clash = scenario3(1, 'nginx:1.27').split('---')[1]!.replace('name: nginx-service', 'name: other-service');
    const res = await c.kubectl(['apply', '-f', '-'], { input: clash });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /spec\.ports\[0\]\.nodePort: Invalid value: 30000: provided port is already allocated/);
  });

  test('scale, then get with jsonpath, yaml, and a custom column', async () => {
    assert.match(await ok(['scale', 'deployment', 'nginx-deployment', '--replicas=4']), /deployment\.apps\/nginx-deployment scaled/);
    assert.equal(await ok(['get', 'deploy', 'nginx-deployment', '-o', 'jsonpath={.spec.replicas}']), '4');
    const yaml = await ok(['get', 'deploy', 'nginx-deployment', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: apps\/v1\nkind: Deployment\n/);
    assert.match(yaml, /replicas: 4/);
  });

  test('labels and selectors: --show-labels, -L, -l with set-based selectors, label add/overwrite/remove', async () => {
    await ok(['create', '-f', '-'], pod('web-1', { environment: 'dev', tier: 'frontend' }));
    await ok(['create', '-f', '-'], pod('web-2', { environment: 'test', tier: 'backend' }));
    await ok(['create', '-f', '-'], pod('web-3', { environment: 'prod', partition: 'a' }));
    const names = async (selector: string) =>
      (await ok(['get', 'pods', '-l', selector, '-o', 'name'])).trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('environment in (dev, test)'), ['pod/web-1', 'pod/web-2']);
    assert.deepEqual(await names('!partition'), ['pod/web-1', 'pod/web-2']);
    assert.deepEqual(await names('environment = dev'), ['pod/web-1']);
    assert.deepEqual(await names('tier != frontend'), ['pod/web-2', 'pod/web-3']);
    assert.match(await ok(['label', 'pods', 'web-1', 'role=java-test']), /pod\/web-1 labeled/);
    assert.match(await ok(['get', 'pods', 'web-1', '--show-labels']), /environment=dev,role=java-test,tier=frontend/);
    const clash = await c.kubectl(['label', 'pods', 'web-1', 'role=front']);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /already has a value \(java-test\), and --overwrite is false/);
    await ok(['label', 'pods', 'web-1', 'role=front', '--overwrite']);
    assert.match(await ok(['get', 'pods', 'web-1', '-L', 'role']), /web-1\s+0\/1\s+Pending\s+0\s+\S+\s+front/);
    assert.match(await ok(['label', 'pods', 'web-1', 'role-']), /pod\/web-1 unlabeled/);
    assert.doesNotMatch(await ok(['get', 'pods', 'web-1', '--show-labels']), /role=/);
    assert.match(await ok(['annotate', 'pods', 'web-1', 'imageregistry=https://hub.docker.com/']), /pod\/web-1 annotated/);
    assert.equal(await ok(['get', 'pod', 'web-1', '-o', 'jsonpath={.metadata.annotations.imageregistry}']), 'https://hub.docker.com/');
  });

  test('get -A shows the NAMESPACE column; -o wide shows the wide pod columns', async () => {
    const all = await ok(['get', 'serviceaccounts', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME\s+SECRETS\s+AGE/);
    assert.match(all, /kube-system\s+default\s+0/);
    const wide = await ok(['get', 'pods', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    assert.match(wide, /web-2\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>/);
  });

  test('describe shows the object and its events', async () => {
    await c.api('POST', '/api/v1/namespaces/default/events', {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'web-2.scheduled' },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-2', uid: (await c.api('GET', '/api/v1/namespaces/default/pods/web-2')).body.metadata.uid },
        reason: 'Scheduled',
        message: 'Successfully assigned default/web-2 to node-a',
        type: 'Normal',
        source: { component: 'default-scheduler' },
        firstTimestamp: new Date().toISOString(),
        lastTimestamp: new Date().toISOString(),
        count: 1,
      },
    });
    const out = await ok(['describe', 'pod', 'web-2']);
    assert.match(out, /^Name:\s+web-2$/m);
    assert.match(out, /Labels:\s+environment=test/);
    assert.match(out, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web-2 to node-a/);
    const events = await ok(['get', 'events']);
    assert.match(events, /LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    assert.match(events, /Normal\s+Scheduled\s+pod\/web-2\s+Successfully assigned/);
  });

  test('get -w prints changes as they happen', async () => {
    const child = spawn(KUBECTL, [`--kubeconfig=${c.controlPlane.kubeconfigPath}`, `--cache-dir=${c.dataDir}/kubectl-cache`, 'get', 'pods', '-w', '-l', 'watched=yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // The initial list prints nothing (no pod matches yet); give kubectl time to start watching.
      await new Promise((r) => setTimeout(r, 1500));
      await ok(['create', '-f', '-'], pod('watched-pod', { watched: 'yes' }));
      // Pending, or later if kubectl was slow to start and listed the pod after it ran.
      await eventually(() => (/watched-pod\s+\d\/1\s+\S+/.test(out) ? true : undefined), 10_000, 'kubectl get -w output');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('delete removes objects and kubectl waits for them to go', async () => {
    assert.match(await ok(['delete', 'pod', 'web-3']), /pod "web-3" deleted/);
    const gone = await c.kubectl(['get', 'pod', 'web-3']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "web-3" not found/);
    const out = await ok(['delete', '-f', '-'], SCENARIO_1_HELLO_WORLD);
    assert.match(out, /deployment\.apps "hello-world" deleted/);
  });

  test('bad input: unknown fields are refused under kubectl validation; invalid names are explained', async () => {
    const typo = scenario3(1, 'nginx').split('---')[0]!.replace('name: nginx-deployment', 'name: typo').replace('        image:', '        imagee:');
    const res = await c.kubectl(['apply', '-f', '-'], { input: typo });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /strict decoding error: unknown field "spec\.template\.spec\.containers\[0\]\.imagee"/);
    const badName = await c.kubectl(['create', 'configmap', 'Bad_Name']);
    assert.notEqual(badName.code, 0);
    assert.match(badName.stderr, /is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    const unknownKind = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n' });
    assert.notEqual(unknownKind.code, 0);
    assert.match(unknownKind.stderr, /no matches for kind "Widget" in version "example\.com\/v1"/);
  });

  test('the manifests in SCENARIOS.md apply as written', async () => {
    await ok(['create', 'namespace', 'scenarios']);
    for (const manifest of [SCENARIO_1_HELLO_WORLD, SCENARIO_3_NGINX]) {
      // Scenario 3 asks for nodePort 30000, which an earlier test holds: free it first.
      if (manifest.includes('nodePort: 30000')) await ok(['delete', 'service', 'nginx-service']);
      const res = await c.kubectl(['apply', '-n', 'scenarios', '-f', '-'], { input: manifest });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /created/);
    }
    const svc = JSON.parse(await ok(['get', 'service', '-n', 'scenarios', 'nginx-service', '-o', 'json']));
    assert.equal(svc.spec.ports[0].nodePort, 30000);
  });
});
