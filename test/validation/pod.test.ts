import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, pod, POD, statusErrors, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const c0 = 'spec.containers[0]';

describe('pod spec on create', () => {
  test('a minimal pod is valid', () => assert.deepEqual(createErrors(POD, pod()), []));

  const cases: { name: string; change: (p: Loose) => void; expect: string[] }[] = [
    { name: 'at least one container', change: (p) => (p.spec.containers = []), expect: ['spec.containers: Required value'] },
    { name: 'image required', change: (p) => delete p.spec.containers[0].image, expect: [`${c0}.image: Required value`] },
    {
      name: 'container names unique across init and regular containers',
      change: (p) => (p.spec.initContainers = [{ name: 'nginx', image: 'busybox' }]),
      expect: ['spec.initContainers[0].name: Duplicate value: "nginx"'],
    },
    {
      name: 'container port range and protocol',
      change: (p) => (p.spec.containers[0].ports = [{ containerPort: 70000, hostPort: -1, protocol: 'ICMP' }]),
      expect: [
        `${c0}.ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive`,
        `${c0}.ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive`,
        `${c0}.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`,
      ],
    },
    {
      name: 'port names are IANA service names, unique in the container',
      change: (p) =>
        (p.spec.containers[0].ports = [
          { name: 'http', containerPort: 80 },
          { name: 'http', containerPort: 81 },
          { name: 'HTTP_2', containerPort: 82 },
        ]),
      expect: [
        `${c0}.ports[1].name: Duplicate value: "http"`,
        `${c0}.ports[2].name: Invalid value: "HTTP_2": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
        `${c0}.ports[2].name: Invalid value: "HTTP_2": must contain at least one letter (a-z)`,
      ],
    },
    {
      name: 'restart and DNS policies',
      change: (p) => {
        p.spec.restartPolicy = 'Sometimes';
        p.spec.dnsPolicy = 'Google';
      },
      expect: [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
      ],
    },
    {
      name: 'a list in a message is printed as Go prints a []string',
      change: (p) => {
        p.spec.dnsPolicy = 'None';
        p.spec.dnsConfig = { nameservers: ['10.43.0.10'], searches: Array.from({ length: 33 }, (_, i) => `s${i}.example`) };
      },
      expect: [
        `spec.dnsConfig.searches: Invalid value: []string{${Array.from({ length: 33 }, (_, i) => `"s${i}.example"`).join(', ')}}: must not have more than 32 search paths`,
      ],
    },
    {
      name: 'volumes: one source, unique names; mounts name a volume and a unique path',
      change: (p) => {
        p.spec.volumes = [
          { name: 'data', emptyDir: {}, hostPath: { path: '/srv' } },
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'cfg', secret: { secretName: 's' } },
        ];
        p.spec.containers[0].volumeMounts = [
          { name: 'cfg', mountPath: '/etc/cfg' },
          { name: 'missing', mountPath: '/etc/cfg' },
          { name: 'cfg' },
        ];
      },
      expect: [
        'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
        'spec.volumes[2].name: Duplicate value: "cfg"',
        `${c0}.volumeMounts[1].name: Not found: "missing"`,
        `${c0}.volumeMounts[1].mountPath: Invalid value: "/etc/cfg": must be unique`,
        `${c0}.volumeMounts[2].mountPath: Required value`,
      ],
    },
    {
      name: 'env: names, and valueFrom with exactly one source',
      change: (p) =>
        (p.spec.containers[0].env = [
          { name: '' },
          { name: 'A=B', value: 'x' },
          { name: 'MODE', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'BOTH', valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, secretKeyRef: { name: 's', key: 'k' } } },
          { name: 'NONE', valueFrom: {} },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ]),
      expect: [
        `${c0}.env[0].name: Required value`,
        `${c0}.env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
        `${c0}.env[2].valueFrom: Invalid value: "": may not be specified when \`value\` is not empty`,
        `${c0}.env[3].valueFrom: Invalid value: "": may not have more than one field specified at a time`,
        `${c0}.env[4].valueFrom: Invalid value: "": must specify one of: \`fieldRef\`, \`resourceFieldRef\`, \`configMapKeyRef\` or \`secretKeyRef\``,
      ],
    },
    {
      name: 'probes need exactly one handler and valid ports',
      change: (p) => {
        p.spec.containers[0].livenessProbe = { httpGet: { port: 'HTTP' }, tcpSocket: { port: 80 }, successThreshold: 2 };
        p.spec.containers[0].readinessProbe = {};
        p.spec.containers[0].startupProbe = { tcpSocket: { port: 0 } };
      },
      expect: [
        `${c0}.livenessProbe.httpGet.port: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
        `${c0}.livenessProbe.httpGet.port: Invalid value: "HTTP": must contain at least one letter (a-z)`,
        `${c0}.livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type`,
        `${c0}.livenessProbe.successThreshold: Invalid value: 2: must be 1`,
        `${c0}.readinessProbe: Required value: must specify a handler type`,
        `${c0}.startupProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive`,
      ],
    },
    {
      name: 'resources: requests not above limits, valid quantities and names',
      change: (p) =>
        (p.spec.containers[0].resources = {
          limits: { cpu: '500m', memory: 'lots' },
          requests: { cpu: '1', 'example.com/gpu': '1', cpus: '1' },
        }),
      expect: [
        `${c0}.resources.limits[memory]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
        `${c0}.resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m`,
        `${c0}.resources.limits: Required value: Limit must be set for non overcommitable resources`,
        `${c0}.resources.requests[cpus]: Invalid value: "cpus": must be a standard resource type or fully qualified`,
        `${c0}.resources.requests[cpus]: Invalid value: "cpus": must be a standard resource for containers`,
        // A Pod's limits are also its requests where it sets none, so the bad memory limit shows twice.
        `${c0}.resources.requests[memory]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
      ],
    },
    {
      name: 'node selector and tolerations',
      change: (p) => {
        p.spec.nodeSelector = { 'disk type': 'ssd' };
        p.spec.tolerations = [
          { key: 'k', operator: 'Exists', value: 'v' },
          { operator: 'Equal', value: 'v' },
          { key: 'k', operator: 'Maybe', effect: 'Sometimes' },
          { key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 },
        ];
      },
      expect: [
        `spec.nodeSelector: Invalid value: "disk type": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
        'spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
        'spec.tolerations[2].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"',
        'spec.tolerations[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        "spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
      ],
    },
    {
      name: 'affinity structure',
      change: (p) =>
        (p.spec.affinity = {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, podAffinityTerm: { topologyKey: 'zone/' } }] },
        }),
      expect: [
        'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term',
        'spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100',
        'spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey: Invalid value: "zone/": name part must be non-empty',
      ],
    },
    {
      name: 'init containers without restartPolicy Always may not have probes',
      change: (p) => (p.spec.initContainers = [{ name: 'init', image: 'busybox', readinessProbe: { exec: { command: ['true'] } } }]),
      expect: ['spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always'],
    },
    {
      name: 'ephemeral containers cannot be set on create',
      change: (p) => (p.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox' }]),
      expect: ['spec.ephemeralContainers: Forbidden: cannot be set on create'],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(createErrors(POD, changed(pod(), c.change)), c.expect));

  test('every error is reported, not just the first', () => {
    const errs = createErrors(
      POD,
      changed(pod(), (p) => {
        delete p.spec.containers[0].image;
        p.spec.restartPolicy = 'x';
        p.metadata.name = 'Bad';
      }),
    );
    assert.equal(errs.length, 3);
  });
});

describe('pod update', () => {
  const running = changed(pod(), (p) => {
    p.spec.nodeName = 'node-1';
    p.spec.activeDeadlineSeconds = 100;
    p.spec.tolerations = [{ key: 'a', operator: 'Exists' }];
  });

  test('the image, a lower activeDeadlineSeconds and new tolerations may change', () => {
    const next = changed(running, (p) => {
      p.spec.containers[0].image = 'nginx:1.27';
      p.spec.activeDeadlineSeconds = 50;
      p.spec.tolerations.push({ key: 'b', operator: 'Exists' });
    });
    assert.deepEqual(updateErrors(POD, next, running), []);
  });

  test('any other spec change is forbidden with Kubernetes message', () => {
    const errs = updateErrors(POD, changed(running, (p) => (p.spec.restartPolicy = 'Never')), running);
    assert.equal(errs.length, 1);
    const [first = ''] = errs;
    assert.ok(
      first.startsWith(
        'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
      ),
      first,
    );
    assert.match(first, /- spec\.restartPolicy: "Always"\n\+ spec\.restartPolicy: "Never"/);
  });

  test('containers may not be added; tolerations may not be removed; deadline may not rise', () => {
    assert.deepEqual(updateErrors(POD, changed(running, (p) => p.spec.containers.push({ name: 'b', image: 'b' })), running), [
      'spec.containers: Forbidden: pod updates may not add or remove containers',
    ]);
    assert.deepEqual(updateErrors(POD, changed(running, (p) => (p.spec.tolerations = [])), running), [
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    ]);
    assert.deepEqual(updateErrors(POD, changed(running, (p) => (p.spec.activeDeadlineSeconds = 200)), running), [
      'spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value',
    ]);
  });
});

describe('pod status update', () => {
  const scheduled = changed(pod(), (p) => {
    p.spec.nodeName = 'node-1';
    p.spec.restartPolicy = 'Never';
    p.status = { phase: 'Running', qosClass: 'BestEffort', containerStatuses: [{ name: 'nginx', state: { terminated: { exitCode: 0 } } }] };
  });

  test('terminated containers of a Never pod stay terminated; IPs are valid; QoS is fixed', () => {
    const next = changed(scheduled, (p) => {
      p.status.containerStatuses = [{ name: 'nginx', state: { running: {} } }];
      p.status.podIPs = [{ ip: '10.42.0.300' }];
      p.status.qosClass = 'Guaranteed';
    });
    assert.deepEqual(statusErrors(POD, next, scheduled), [
      'status.qosClass: Invalid value: "Guaranteed": field is immutable',
      'status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state',
      'status.podIPs[0]: Invalid value: "10.42.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });

  test('an agent status write that omits the QoS class is accepted', () => {
    const next = changed(scheduled, (p) => (p.status = { phase: 'Succeeded', podIP: '10.42.0.7', podIPs: [{ ip: '10.42.0.7' }] }));
    assert.deepEqual(statusErrors(POD, next, scheduled), []);
  });
});
