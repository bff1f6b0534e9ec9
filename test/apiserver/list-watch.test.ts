// Lists and watches: selectors, pagination at one revision, resourceVersion rules, watch events
// with and without initial state, selector transitions, bookmarks, timeouts and 410s.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { openWatch } from '../helpers/watch.js';

describe('lists and watches', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({ bookmarkIntervalMs: 200 });
    await c.api('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lw' } } });
  });
  after(async () => {
    await c.close();
  });

  const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) =>
    c.api('POST', '/api/v1/namespaces/lw/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data } });

  test('label selectors: equality, inequality, set-based and existence', async () => {
    await cm('sel-a', { environment: 'dev', tier: 'frontend' });
    await cm('sel-b', { environment: 'test', tier: 'backend' });
    await cm('sel-c', { environment: 'prod', partition: 'x' });
    const names = async (selector: string) =>
      (await c.api('GET', `/api/v1/namespaces/lw/configmaps?labelSelector=${encodeURIComponent(selector)}`)).body.items
        .map((x: any) => x.metadata.name)
        .filter((n: string) => n.startsWith('sel-'));
    assert.deepEqual(await names('environment=dev'), ['sel-a']);
    assert.deepEqual(await names('tier!=frontend'), ['sel-b', 'sel-c']);
    assert.deepEqual(await names('environment in (dev, test)'), ['sel-a', 'sel-b']);
    assert.deepEqual(await names('environment notin (dev)'), ['sel-b', 'sel-c']);
    assert.deepEqual(await names('!partition'), ['sel-a', 'sel-b']);
    assert.deepEqual(await names('partition'), ['sel-c']);
    assert.deepEqual(await names('environment in (dev,test),tier=backend'), ['sel-b']);
    const bad = await c.api('GET', `/api/v1/namespaces/lw/configmaps?labelSelector=${encodeURIComponent('environment in (dev')}`);
    assert.equal(bad.status, 400);
  });

  test('field selectors on pods, events and secrets; unsupported fields are 400', async () => {
    const pod = (name: string, nodeName: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName, containers: [{ name: 'c', image: 'x' }] },
    });
    await c.api('POST', '/api/v1/namespaces/lw/pods', { body: pod('fs-1', 'n1') });
    await c.api('POST', '/api/v1/namespaces/lw/pods', { body: pod('fs-2', 'n2') });
    const onN1 = await c.api('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
    assert.deepEqual(onN1.body.items.map((p: any) => p.metadata.name), ['fs-1']);
    const notFailed = await c.api('GET', `/api/v1/namespaces/lw/pods?fieldSelector=${encodeURIComponent('status.phase!=Failed,metadata.name=fs-2')}`);
    assert.deepEqual(notFailed.body.items.map((p: any) => p.metadata.name), ['fs-2']);
    const bad = await c.api('GET', '/api/v1/namespaces/lw/pods?fieldSelector=spec.bogus%3Dx');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /field label not supported: spec\.bogus/);
  });

  test('limit and continue page through one consistent revision, even while writes happen', async () => {
    await c.api('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pages' } } });
    for (let i = 0; i < 7; i++) {
      await c.api('POST', '/api/v1/namespaces/pages/configmaps', {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `p-${i}` } },
      });
    }
    const first = await c.api('GET', '/api/v1/namespaces/pages/configmaps?limit=3');
    assert.equal(first.body.items.length, 3);
    assert.equal(first.body.metadata.remainingItemCount, 4);
    const rv = first.body.metadata.resourceVersion;
    // A write between pages is not visible in later pages.
    await c.api('POST', '/api/v1/namespaces/pages/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p-9' } } });
    await c.api('DELETE', '/api/v1/namespaces/pages/configmaps/p-5');
    const seen = first.body.items.map((x: any) => x.metadata.name);
    const left: (number | undefined)[] = [];
    let token = first.body.metadata.continue;
    while (token) {
      const page = await c.api('GET', `/api/v1/namespaces/pages/configmaps?limit=3&continue=${encodeURIComponent(token)}`);
      assert.equal(page.status, 200);
      assert.equal(page.body.metadata.resourceVersion, rv);
      seen.push(...page.body.items.map((x: any) => x.metadata.name));
      left.push(page.body.metadata.remainingItemCount);
      token = page.body.metadata.continue;
    }
    assert.deepEqual(seen, ['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6']);
    // What is left counts the list as of its first page, not the writes since.
    assert.deepEqual(left, [1, undefined]);
  });

  test('a tampered continue token is 410; a continue token past compaction is 410 Expired', async () => {
    const tampered = await c.api('GET', '/api/v1/namespaces/pages/configmaps?limit=2&continue=not-a-token');
    assert.equal(tampered.status, 410);
    const first = await c.api('GET', '/api/v1/namespaces/pages/configmaps?limit=2');
    // The token's count of what is left: a bad one is refused; none (a token of an older
    // server) means counting again.
    const body = JSON.parse(Buffer.from(first.body.metadata.continue, 'base64url').toString());
    const token = (b: object) => encodeURIComponent(Buffer.from(JSON.stringify(b)).toString('base64url'));
    assert.equal((await c.api('GET', `/api/v1/namespaces/pages/configmaps?limit=2&continue=${token({ ...body, remain: -1 })}`)).status, 410);
    const { remain, ...older } = body;
    const counted = await c.api('GET', `/api/v1/namespaces/pages/configmaps?limit=2&continue=${token(older)}`);
    const known = await c.api('GET', `/api/v1/namespaces/pages/configmaps?limit=2&continue=${token(body)}`);
    assert.equal(counted.status, 200);
    assert.equal(counted.body.metadata.remainingItemCount, remain - 2);
    assert.equal(known.body.metadata.remainingItemCount, remain - 2);
    await c.api('POST', '/api/v1/namespaces/pages/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p-after' } } });
    const current = Number((await c.api('GET', '/api/v1/namespaces/pages/configmaps')).body.metadata.resourceVersion);
    await c.controlPlane.store.compact(current);
    const expired = await c.api('GET', `/api/v1/namespaces/pages/configmaps?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.body.reason, 'Expired');
    const withRv = await c.api('GET', `/api/v1/namespaces/pages/configmaps?limit=2&resourceVersion=${current}&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    assert.equal(withRv.status, 400);
  });

  test('resourceVersion semantics of lists', async () => {
    const a = await cm('rv-a');
    const rvA = a.body.metadata.resourceVersion;
    await cm('rv-b');
    const exact = await c.api('GET', `/api/v1/namespaces/lw/configmaps?resourceVersion=${rvA}&resourceVersionMatch=Exact`);
    assert.equal(exact.status, 200);
    const names = exact.body.items.map((x: any) => x.metadata.name);
    assert.ok(names.includes('rv-a') && !names.includes('rv-b'));
    assert.equal(exact.body.metadata.resourceVersion, rvA);
    const notOlder = await c.api('GET', `/api/v1/namespaces/lw/configmaps?resourceVersion=${rvA}&resourceVersionMatch=NotOlderThan`);
    assert.ok(notOlder.body.items.some((x: any) => x.metadata.name === 'rv-b'));
    const noRv = await c.api('GET', '/api/v1/namespaces/lw/configmaps?resourceVersionMatch=Exact');
    assert.equal(noRv.status, 400);
    const future = await c.api('GET', '/api/v1/namespaces/lw/configmaps?resourceVersion=99999999&resourceVersionMatch=Exact');
    assert.equal(future.status, 504);
  });

  test('a watch without resourceVersion starts with the current objects, then follows changes', async () => {
    await c.api('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w1' } } });
    await c.api('POST', '/api/v1/namespaces/w1/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'existing' } } });
    const w = await openWatch(c, '/api/v1/namespaces/w1/configmaps?watch=true');
    assert.equal(w.status, 200);
    const added = await w.next();
    assert.equal(added.type, 'ADDED');
    assert.equal(added.object.metadata.name, 'existing');
    const created = await c.api('POST', '/api/v1/namespaces/w1/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' } } });
    const ev = await w.next();
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.metadata.name, 'later');
    assert.equal(ev.object.metadata.resourceVersion, created.body.metadata.resourceVersion);
    assert.equal(ev.object.kind, 'ConfigMap');
    await c.api('PATCH', '/api/v1/namespaces/w1/configmaps/later', { body: { data: { x: '1' } }, headers: { 'content-type': 'application/merge-patch+json' } });
    assert.equal((await w.next()).type, 'MODIFIED');
    await c.api('DELETE', '/api/v1/namespaces/w1/configmaps/later');
    const deleted = await w.next();
    assert.equal(deleted.type, 'DELETED');
    assert.equal(deleted.object.data.x, '1');
    w.close();
  });

  test('a plain watch sends each object as the API returns it; a deletion, its last state at the delete revision', async () => {
    // Plain watchers get the stored text with the revision spliced in, not a re-serialised object.
    const ns = await c.api('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w3' } } });
    const from = ns.body.metadata.resourceVersion;
    const w = await openWatch(c, `/api/v1/namespaces/w3/configmaps?watch=true&resourceVersion=${from}`);
    const created = await c.api('POST', '/api/v1/namespaces/w3/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'text', labels: { a: 'b' } }, data: { text: 'line\n"quoted" ü' } },
    });
    assert.deepEqual(await w.next(), { type: 'ADDED', object: created.body });
    const patched = await c.api('PATCH', '/api/v1/namespaces/w3/configmaps/text', {
      body: { metadata: { annotations: { n: '1' } } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.deepEqual(await w.next(), { type: 'MODIFIED', object: patched.body });
    await c.api('DELETE', '/api/v1/namespaces/w3/configmaps/text');
    const deleted = await w.next();
    assert.equal(deleted.type, 'DELETED');
    const { resourceVersion, ...lastState } = deleted.object.metadata;
    const { resourceVersion: patchedRv, ...patchedMeta } = patched.body.metadata;
    assert.deepEqual({ ...deleted.object, metadata: lastState }, { ...patched.body, metadata: patchedMeta });
    assert.ok(Number(resourceVersion) > Number(patchedRv));
    w.close();

    // Events are stored once and served in two groups: each watcher gets its own apiVersion.
    const core = await openWatch(c, `/api/v1/namespaces/w3/events?watch=true&resourceVersion=${from}`);
    const v1 = await openWatch(c, `/apis/events.k8s.io/v1/namespaces/w3/events?watch=true&resourceVersion=${from}`);
    await c.api('POST', '/api/v1/namespaces/w3/events', {
      body: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'ev' }, involvedObject: { kind: 'ConfigMap', name: 'x', namespace: 'w3' }, reason: 'R', message: 'm', type: 'Normal' },
    });
    assert.equal((await core.next()).object.apiVersion, 'v1');
    assert.equal((await v1.next()).object.apiVersion, 'events.k8s.io/v1');
    core.close();
    v1.close();
  });

  test('a watch from a resourceVersion sends only later changes, each once, in order', async () => {
    const start = (await c.api('GET', '/api/v1/namespaces/lw/configmaps')).body.metadata.resourceVersion;
    for (let i = 0; i < 5; i++) await cm(`seq-${i}`);
    const w = await openWatch(c, `/api/v1/namespaces/lw/configmaps?watch=1&resourceVersion=${start}`);
    const events = await w.take(5);
    assert.deepEqual(events.map((e) => `${e.type}:${e.object.metadata.name}`), [0, 1, 2, 3, 4].map((i) => `ADDED:seq-${i}`));
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y));
    await assert.rejects(w.next(300), /no watch event/);
    w.close();
  });

  test('with a label selector, objects entering the selection are ADDED and leaving it DELETED', async () => {
    await cm('mover', { color: 'red' });
    const rv = (await c.api('GET', '/api/v1/namespaces/lw/configmaps')).body.metadata.resourceVersion;
    const w = await openWatch(c, `/api/v1/namespaces/lw/configmaps?watch=true&resourceVersion=${rv}&labelSelector=color%3Dblue`);
    const patch = (color: string) =>
      c.api('PATCH', '/api/v1/namespaces/lw/configmaps/mover', {
        body: { metadata: { labels: { color } } },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
    await patch('blue');
    const entered = await w.next();
    assert.equal(entered.type, 'ADDED');
    await patch('green');
    const left = await w.next();
    assert.equal(left.type, 'DELETED');
    assert.equal(left.object.metadata.labels.color, 'blue', 'the object as it last matched');
    w.close();
  });

  test('bookmarks carry the resourceVersion when asked for; timeoutSeconds ends the stream', async () => {
    const rv = (await c.api('GET', '/api/v1/namespaces/lw/configmaps')).body.metadata.resourceVersion;
    const w = await openWatch(c, `/api/v1/namespaces/lw/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}&timeoutSeconds=3`);
    const created = await cm('bm');
    let ev = await w.next();
    // On a slow machine bookmarks (every 200 ms here) may come before the create: they carry the start.
    for (; ev.type === 'BOOKMARK'; ev = await w.next()) assert.equal(ev.object.metadata.resourceVersion, rv);
    assert.equal(ev.type, 'ADDED');
    const bookmark = await w.next(2000);
    assert.equal(bookmark.type, 'BOOKMARK');
    assert.equal(bookmark.object.kind, 'ConfigMap');
    assert.equal(bookmark.object.metadata.resourceVersion, created.body.metadata.resourceVersion);
    // The stream ends by itself after timeoutSeconds.
    let end: any = bookmark;
    while (end !== undefined) end = await w.next(3000);
    w.close();
  });

  test('sendInitialEvents ends the initial burst with an annotated bookmark', async () => {
    const w = await openWatch(c, '/api/v1/namespaces/default/serviceaccounts?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=');
    const first = await w.next();
    assert.equal(first.type, 'ADDED');
    const marker = await w.next();
    assert.equal(marker.type, 'BOOKMARK');
    assert.equal(marker.object.metadata.annotations['k8s.io/initial-events-end'], 'true');
    w.close();
  });

  test('a watch from a compacted resourceVersion gets an in-stream 410 Expired', async () => {
    const old = (await cm('before-compact')).body.metadata.resourceVersion;
    await cm('after-compact');
    const current = Number((await c.api('GET', '/api/v1/namespaces/lw/configmaps')).body.metadata.resourceVersion);
    await c.controlPlane.store.compact(current);
    // Far older than the watch cache window too: force the store path by using a revision before the server started.
    const w = await openWatch(c, `/api/v1/namespaces/lw/configmaps?watch=true&resourceVersion=1`);
    assert.equal(w.status, 200);
    const ev = await w.next();
    assert.equal(ev.type, 'ERROR');
    assert.equal(ev.object.code, 410);
    assert.equal(ev.object.reason, 'Expired');
    assert.equal(await w.next(), undefined, 'the stream ends after the error');
    w.close();
    assert.ok(Number(old) < current);
  });

  test('watch with the Table Accept sends one-row Tables', async () => {
    const rv = (await c.api('GET', '/api/v1/namespaces/lw/configmaps')).body.metadata.resourceVersion;
    const w = await openWatch(c, `/api/v1/namespaces/lw/configmaps?watch=true&resourceVersion=${rv}`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    await cm('tabled', {}, { a: 'b' });
    const ev = await w.next();
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.kind, 'Table');
    assert.equal(ev.object.rows.length, 1);
    assert.equal(ev.object.rows[0].cells[0], 'tabled');
    w.close();
  });
});
