// The manifests users apply in Skiff's scenarios (shared/SCENARIOS.md) and in the Kubernetes
// documentation pages they come from must pass defaulting and validation unchanged.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../api/objects.js';
import { splitApiVersion } from '../../api/resources.js';
import { SCENARIO_1_HELLO_WORLD, SCENARIO_3_NGINX } from '../fixtures/scenarios.js';
import { createErrors, resource } from './fixtures.js';

const MANIFESTS = `${SCENARIO_1_HELLO_WORLD}---
${SCENARIO_3_NGINX}---
apiVersion: v1
kind: Pod
metadata:
  name: label-demo
  labels:
    environment: production
    app: nginx
  annotations:
    imageregistry: "https://hub.docker.com/"
spec:
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports:
    - containerPort: 80
    livenessProbe:
      httpGet:
        path: /healthz
        port: 80
      initialDelaySeconds: 3
      periodSeconds: 3
    readinessProbe:
      exec:
        command: [cat, /tmp/healthy]
    resources:
      requests:
        cpu: 250m
        memory: 64Mi
      limits:
        cpu: 500m
        memory: 128Mi
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
spec:
  replicas: 3
  selector:
    matchExpressions:
    - {key: name, operator: In, values: [web-app]}
  template:
    metadata:
      labels:
        name: web-app
    spec:
      containers:
      - name: php-redis
        image: gcr.io/google_samples/gb-frontend:v3
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx
  serviceName: nginx
  replicas: 3
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: game-demo
data:
  player_initial_lives: "3"
  game.properties: |
    enemy.types=aliens,monsters
---
apiVersion: v1
kind: Secret
metadata:
  name: db-user
type: Opaque
stringData:
  username: admin
data:
  password: MWYyZDFlMmU2N2Rm
---
apiVersion: v1
kind: Pod
metadata:
  name: configmap-demo-pod
spec:
  containers:
  - name: demo
    image: alpine
    command: [sleep, "3600"]
    env:
    - name: PLAYER_INITIAL_LIVES
      valueFrom:
        configMapKeyRef:
          name: game-demo
          key: player_initial_lives
    - name: DB_PASSWORD
      valueFrom:
        secretKeyRef:
          name: db-user
          key: password
    - name: MY_POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    envFrom:
    - configMapRef:
        name: game-demo
    volumeMounts:
    - name: config
      mountPath: /config
      readOnly: true
  volumes:
  - name: config
    configMap:
      name: game-demo
      items:
      - key: game.properties
        path: game.properties
---
apiVersion: v1
kind: Namespace
metadata:
  name: development
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: build-robot
`;

const documents = parseAllDocuments(MANIFESTS).map((d) => d.toJSON() as KubeObject);

for (const doc of documents) {
  const { group } = splitApiVersion(doc.apiVersion ?? '');
  const r = resource(group, doc.kind ?? '');
  // The documentation's StatefulSet claims storage per pod, and Skiff has no
  // PersistentVolumeClaims yet: that one field is refused, with its reason, and nothing else.
  const claimsStorage = doc.kind === 'StatefulSet' && 'volumeClaimTemplates' in ((doc['spec'] as object) ?? {});
  test(`${doc.kind} ${doc.metadata?.name} is valid${claimsStorage ? ' but for its volumeClaimTemplates' : ''}`, () => {
    const obj = structuredClone(doc);
    if (r.namespaced) obj.metadata = { namespace: 'default', ...obj.metadata };
    const errors = createErrors(r, obj);
    if (!claimsStorage) return assert.deepEqual(errors, []);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /^spec\.volumeClaimTemplates: Forbidden: .*no PersistentVolumeClaims yet/);
  });
}

test('the scenario manifests were all read', () => assert.equal(documents.length, 13));
