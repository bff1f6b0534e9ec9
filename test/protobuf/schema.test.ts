// api/schema/protobuf.json against itself, the served kinds and types.json: every type the
// decoder can meet is described, and no JSON property of a covered type lacks a protobuf field
// (so that nothing a client sends could be dropped silently).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RESOURCES, apiVersionOf } from '../../api/resources.js';
import { schemaData } from '../../api/schema/definitions.js';
import type { FieldType } from '../../api/schema/model.js';
import { FIELDS_V1, INT_OR_STRING, MICRO_TIME, QUANTITY, RAW_EXTENSION, TIME } from '../../api/schema/model.js';
import { decodeProtobufObject, protobufDefinitionOfKind, protobufSchema } from '../../controlplane/apiserver/protobuf.js';
import type { FieldSpec } from '../../controlplane/apiserver/protobuf.js';
import { k8sBody } from './wire.js';

const SCALARS = new Set(['string', 'int32', 'int64', 'bool', 'bytes']);
const SPECIAL = new Set([TIME, MICRO_TIME, QUANTITY, INT_OR_STRING, RAW_EXTENSION, FIELDS_V1]);
const messages = protobufSchema.messages;

/** A message's JSON properties, with inlined structs flattened into it. */
function jsonFields(name: string): Map<string, FieldSpec> {
  const out = new Map<string, FieldSpec>();
  for (const spec of Object.values(messages[name] ?? {})) {
    if (spec[2]?.includes('i')) for (const [k, v] of jsonFields(spec[1])) out.set(k, v);
    else out.set(spec[0], spec);
  }
  return out;
}

/** The types.json type a protobuf field must have. */
function expectedJsonType(spec: FieldSpec): FieldType {
  const [, type, flags = ''] = spec;
  const element: FieldType =
    type === 'string'
      ? { type: 'string' }
      : type === 'bytes'
        ? { type: 'string', format: 'byte' }
        : type === 'int32' || type === 'int64'
          ? { type: 'integer', format: type }
          : type === 'bool'
            ? { type: 'boolean' }
            : { type: 'ref', ref: type };
  if (flags.includes('m')) return { type: 'map', values: element };
  if (flags.includes('r')) return { type: 'array', items: element };
  return element;
}

describe('api/schema/protobuf.json', () => {
  test('every field type is a scalar, a specially encoded type, or a described message', () => {
    for (const [name, fields] of Object.entries(messages)) {
      for (const [number, [json, type, flags = '']] of Object.entries(fields)) {
        assert.ok(/^[1-9]\d*$/.test(number), `${name}: field number ${number}`);
        assert.ok(SCALARS.has(type) || SPECIAL.has(type) || Object.hasOwn(messages, type), `${name}.${json}: unknown type ${type}`);
        assert.match(flags, /^r?m?i?o?p?$/, `${name}.${json}: flags ${flags}`);
        assert.ok(flags.includes('i') ? json === '' : json !== '', `${name}.${number}: JSON name ${JSON.stringify(json)}`);
        if (flags.includes('m') || flags.includes('r') || flags.includes('i')) assert.ok(!flags.includes('p'), `${name}.${json}: a slice/map/inline is no pointer`);
      }
    }
  });

  test('every served kind, and the bodies kubectl sends besides, has a message', () => {
    const kinds = RESOURCES.map((r) => ({ apiVersion: apiVersionOf(r), kind: r.kind }));
    kinds.push(
      { apiVersion: 'v1', kind: 'Binding' },
      { apiVersion: 'policy/v1', kind: 'Eviction' },
      { apiVersion: 'autoscaling/v1', kind: 'Scale' },
      { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' },
      { apiVersion: 'v1', kind: 'DeleteOptions' },
      { apiVersion: 'batch/v1', kind: 'CronJob' },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview' },
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview' },
    );
    for (const { apiVersion, kind } of kinds) {
      const definition = protobufDefinitionOfKind(apiVersion, kind);
      assert.ok(definition && Object.hasOwn(messages, definition), `${apiVersion} ${kind}`);
    }
    for (const [key, definition] of Object.entries(protobufSchema.kinds)) {
      assert.ok(Object.hasOwn(messages, definition), `${key} → ${definition}`);
      assert.ok(definition.endsWith(`.${key.slice(key.lastIndexOf('/') + 1)}`), `${key} → ${definition}`);
    }
  });

  test('the JSON names and types of every message agree with types.json, property for property', () => {
    let compared = 0;
    for (const name of Object.keys(messages)) {
      const def = schemaData.definitions[name];
      if (!def) continue;
      assert.equal(def.type, 'object', name);
      if (def.type !== 'object') continue;
      compared++;
      const fields = jsonFields(name);
      // The embedded TypeMeta (apiVersion and kind) has no protobuf field: a kind's travels in
      // runtime.Unknown, a nested object's (StatefulSet volumeClaimTemplates) is not sent at all.
      const typeMeta = !fields.has('apiVersion') && !fields.has('kind') && Object.hasOwn(def.properties, 'apiVersion') && Object.hasOwn(def.properties, 'kind');
      const properties = Object.keys(def.properties).filter((p) => !typeMeta || (p !== 'apiVersion' && p !== 'kind'));
      assert.deepEqual([...fields.keys()].sort(), properties.sort(), `${name}: properties`);
      for (const [json, spec] of fields) assert.deepEqual(expectedJsonType(spec), def.properties[json], `${name}.${json}`);
    }
    assert.ok(compared > 200, `only ${compared} messages compared`);
  });

  test('every kind decodes from an empty object: no type on the way is missing', () => {
    for (const key of Object.keys(protobufSchema.kinds)) {
      const slash = key.lastIndexOf('/');
      const obj = decodeProtobufObject(k8sBody(key.slice(0, slash), key.slice(slash + 1)), key.slice(slash + 1));
      assert.equal(obj['kind'], key.slice(slash + 1));
    }
  });
});
