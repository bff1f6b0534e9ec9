// Generates api/schema/types.json, the type schema data of every definition reachable from the
// kinds Skiff serves. Run it after upgrading @kubernetes/client-node:
//
//     npx tsx api/schema/generate.ts
//
// Sources, and how they are combined:
// - The model classes of @kubernetes/client-node (a devDependency, generated from Kubernetes'
//   OpenAPI document) give every property and its JSON type through their static
//   `attributeTypeMap`, and the `?` of their declarations tells optional from required.
// - Class names drop the API package (V1Container is io.k8s.api.core.v1.Container); only names
//   that collide get one (CoreV1Event, EventsV1Event). The package of an unprefixed name is found
//   in kubernetes-types, whose declarations are filed by package (core/v1.d.ts, apps/v1.d.ts,
//   meta/v1.d.ts…). A type too new for kubernetes-types 1.30 takes the package of the type that
//   refers to it (new core types are referenced from core types); the generator prints those.
// - client-node types Quantity fields as plain strings. kubernetes-types declares them with its
//   `Quantity` alias, which is how they are recognised; properties of types it does not know fall
//   back to the names Kubernetes uses for resource lists (requests, limits, capacity, …) and are
//   printed too. In the same way, client-node's `any` is told apart as RawExtension or FieldsV1.
//
// Nothing here runs in the server: it reads only devDependencies, and the output is committed.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import * as clientNode from '@kubernetes/client-node';
import { RESOURCES, groupVersions } from '../resources.js';
import {
  FIELDS_V1,
  INT_OR_STRING,
  MICRO_TIME,
  QUANTITY,
  RAW_EXTENSION,
  TIME,
  type Definition,
  type FieldType,
  type GroupVersionKindRef,
  type ObjectDefinition,
  type SchemaData,
} from './model.js';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

/** A Go API package at one version, as kubernetes-types files it: `core/v1`, `meta/v1`. */
interface ApiPackage {
  pkg: string;
  version: string;
}

const require = createRequire(import.meta.url);
const clientNodeRoot = dirname(require.resolve('@kubernetes/client-node/package.json'));
const kubernetesTypesRoot = dirname(require.resolve('kubernetes-types/package.json'));

// The names Kubernetes gives Quantity fields and ResourceLists (maps of Quantity): core/v1
// ResourceRequirements, NodeStatus, ResourceQuota, PersistentVolume(Claim), Pod overhead and
// resize status, EmptyDir sizeLimit, resourceFieldRef divisor, and autoscaling/v2
// HPAScalingRules tolerance (1.33, newer than kubernetes-types). Used only for properties that
// kubernetes-types does not declare.
const QUANTITY_FIELD_NAMES = new Set([
  'requests',
  'limits',
  'capacity',
  'allocatable',
  'allocatedResources',
  'overhead',
  'sizeLimit',
  'divisor',
  'hard',
  'used',
  'tolerance',
]);

// ---------------------------------------------------------------------------------------------
// kubernetes-types: which package declares which type, and how it types each property.

/** `core/v1` → interface name → property → the declared type's text. */
type DeclarationIndex = Map<string, Map<string, Map<string, string>>>;

function readKubernetesTypes(): DeclarationIndex {
  const index: DeclarationIndex = new Map();
  for (const entry of readdirSync(kubernetesTypesRoot, { withFileTypes: true })) {
    // Top-level files (runtime.d.ts, version.d.ts) and api/resource.d.ts hold no structs we walk.
    if (!entry.isDirectory() || entry.name === 'api') continue;
    for (const file of readdirSync(join(kubernetesTypesRoot, entry.name))) {
      if (!file.endsWith('.d.ts')) continue;
      const key = `${entry.name}/${file.slice(0, -'.d.ts'.length)}`;
      index.set(key, readInterfaces(join(kubernetesTypesRoot, entry.name, file)));
    }
  }
  return index;
}

function readInterfaces(path: string): Map<string, Map<string, string>> {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false);
  const interfaces = new Map<string, Map<string, string>>();
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    const properties = new Map<string, string>();
    for (const member of statement.members) {
      if (ts.isPropertySignature(member) && member.type) {
        properties.set(member.name.getText(source), member.type.getText(source));
      }
    }
    interfaces.set(statement.name.text, properties);
  }
  return interfaces;
}

// ---------------------------------------------------------------------------------------------
// client-node: the model classes.

function attributesOf(className: string): Attribute[] {
  const value = (clientNode as unknown as Record<string, unknown>)[className];
  const map = typeof value === 'function' ? (value as { attributeTypeMap?: unknown }).attributeTypeMap : undefined;
  if (!Array.isArray(map)) throw new Error(`@kubernetes/client-node has no model class ${className}`);
  return map as Attribute[];
}

function hasClass(className: string): boolean {
  const value = (clientNode as unknown as Record<string, unknown>)[className];
  return typeof value === 'function' && Array.isArray((value as { attributeTypeMap?: unknown }).attributeTypeMap);
}

/** Properties the class declares without `?`: required in Kubernetes' OpenAPI. */
function requiredOf(className: string): string[] {
  const path = join(clientNodeRoot, 'dist', 'gen', 'models', `${className}.d.ts`);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false);
  const required: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || statement.name?.text !== className) continue;
    for (const member of statement.members) {
      const isStatic = ts.getModifiers(member as ts.PropertyDeclaration)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
      if (ts.isPropertyDeclaration(member) && !isStatic && !member.questionToken) {
        required.push(ts.isStringLiteral(member.name) ? member.name.text : member.name.getText(source));
      }
    }
  }
  return required;
}

// `V1Pod`, `CoreV1Event`, `V1beta1Foo`: optional package prefix, version, Go type name.
const CLASS_NAME = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/;

function parseClassName(className: string): { prefix?: string; version: string; name: string } {
  const match = CLASS_NAME.exec(className);
  if (!match?.[2] || !match[3]) throw new Error(`cannot parse client-node class name ${className}`);
  return { prefix: match[1]?.toLowerCase(), version: match[2].toLowerCase(), name: match[3] };
}

/** The canonical OpenAPI name of a Go type in an API package. */
export function canonicalName(pkg: ApiPackage, name: string): string {
  switch (pkg.pkg) {
    case 'meta':
      return `io.k8s.apimachinery.pkg.apis.meta.${pkg.version}.${name}`;
    case 'apiextensions':
      return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${pkg.version}.${name}`;
    case 'apiregistration':
      return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${pkg.version}.${name}`;
    default:
      return `io.k8s.api.${pkg.pkg}.${pkg.version}.${name}`;
  }
}

/** The Go package of an API group: `` → core, `apps` → apps, `discovery.k8s.io` → discovery. */
function packageOfGroup(group: string): string {
  if (group === '') return 'core';
  if (group === 'internal.apiserver.k8s.io') return 'apiserverinternal';
  return group.split('.')[0] ?? group;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

// ---------------------------------------------------------------------------------------------
// The walk.

interface Root {
  gvk: GroupVersionKindRef[];
  pkg: ApiPackage;
  kind: string;
}

/** The kinds whose definitions are roots: every served kind and its list, plus the kinds that
 * subresources and DELETE speak (autoscaling/v1 Scale, core/v1 Binding, meta/v1 Status and
 * DeleteOptions). */
function roots(): Root[] {
  const list: Root[] = [];
  for (const r of RESOURCES) {
    const pkg = { pkg: packageOfGroup(r.group), version: r.version };
    list.push({ gvk: [{ group: r.group, version: r.version, kind: r.kind }], pkg, kind: r.kind });
    list.push({ gvk: [{ group: r.group, version: r.version, kind: `${r.kind}List` }], pkg, kind: `${r.kind}List` });
    for (const sub of r.subresources) {
      if (!sub.kind || sub.connect) continue;
      const subPkg = { pkg: packageOfGroup(sub.kind.group), version: sub.kind.version };
      list.push({ gvk: [{ ...sub.kind }], pkg: subPkg, kind: sub.kind.kind });
    }
  }
  list.push({ gvk: [{ group: '', version: 'v1', kind: 'Status' }], pkg: { pkg: 'meta', version: 'v1' }, kind: 'Status' });
  // Kubernetes registers DeleteOptions in every group version, and its OpenAPI lists them all.
  list.push({
    gvk: groupVersions().map((gv) => ({ group: gv.group, version: gv.version, kind: 'DeleteOptions' })),
    pkg: { pkg: 'meta', version: 'v1' },
    kind: 'DeleteOptions',
  });
  return list;
}

export interface GenerationReport {
  data: SchemaData;
  /** Types whose package was taken from the type referring to them, with that referrer. */
  packagesInferred: string[];
  /** Properties recognised as Quantity by name only. */
  quantitiesByName: string[];
}

export function generateSchemaData(): GenerationReport {
  const declarations = readKubernetesTypes();
  const definitions = new Map<string, Definition>();
  const classToName = new Map<string, string>();
  const packagesInferred: string[] = [];
  const quantitiesByName: string[] = [];
  const queue: { className: string; pkg: ApiPackage; name: string }[] = [];

  function declaredIn(pkg: ApiPackage, name: string): boolean {
    return declarations.get(`${pkg.pkg}/${pkg.version}`)?.has(name) ?? false;
  }

  /** Finds the API package of a client-node class. */
  function packageOf(className: string, referrer: ApiPackage, referrerName: string): ApiPackage {
    const { prefix, version, name } = parseClassName(className);
    if (prefix) return { pkg: prefix, version };
    const candidates: ApiPackage[] = [];
    for (const key of declarations.keys()) {
      const [pkg = '', ver = ''] = key.split('/');
      if (ver === version && declaredIn({ pkg, version: ver }, name)) candidates.push({ pkg, version: ver });
    }
    if (candidates.length === 1 && candidates[0]) return candidates[0];
    const fromReferrer = candidates.find((c) => c.pkg === referrer.pkg);
    if (fromReferrer) return fromReferrer;
    if (candidates.length > 1) {
      throw new Error(`${className} is declared in ${candidates.map((c) => c.pkg).join(', ')}; cannot choose`);
    }
    packagesInferred.push(`${className} -> ${referrer.pkg}/${referrer.version} (from ${referrerName})`);
    return { pkg: referrer.pkg, version };
  }

  function nameOfClass(className: string, referrer: ApiPackage, referrerName: string): string {
    const known = classToName.get(className);
    if (known) return known;
    const pkg = packageOf(className, referrer, referrerName);
    const name = canonicalName(pkg, parseClassName(className).name);
    classToName.set(className, name);
    queue.push({ className, pkg, name });
    return name;
  }

  function fieldType(
    type: string,
    format: string,
    special: { quantity: boolean; declared?: string },
    owner: { pkg: ApiPackage; name: string; className: string; property: string },
  ): FieldType {
    const array = /^Array<(.+)>$/.exec(type);
    if (array?.[1]) return { type: 'array', items: fieldType(array[1], format, special, owner) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map?.[1]) return { type: 'map', values: fieldType(map[1], format, special, owner) };
    switch (type) {
      case 'string':
        if (special.quantity) return { type: 'ref', ref: QUANTITY };
        return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
      case 'number':
        if (format === 'int32' || format === 'int64') return { type: 'integer', format };
        if (format === 'double') return { type: 'number', format: 'double' };
        return { type: 'number' };
      case 'boolean':
        return { type: 'boolean' };
      case 'Date':
      case 'V1MicroTime': // client-node's name for meta/v1 MicroTime, which it declares as Date
        return { type: 'ref', ref: format === 'date-time-micro' ? MICRO_TIME : TIME };
      case 'IntOrString':
        return { type: 'ref', ref: INT_OR_STRING };
      case 'any':
        if (special.declared && /\bRawExtension\b/.test(special.declared)) return { type: 'ref', ref: RAW_EXTENSION };
        if (special.declared && /\bFieldsV1\b/.test(special.declared)) return { type: 'ref', ref: FIELDS_V1 };
        throw new Error(`${owner.className}.${owner.property}: cannot tell what 'any' stands for (${special.declared ?? 'undeclared'})`);
      default:
        return { type: 'ref', ref: nameOfClass(type, owner.pkg, owner.name) };
    }
  }

  function walk(className: string, pkg: ApiPackage, name: string, gvk?: GroupVersionKindRef[]): void {
    const goName = parseClassName(className).name;
    const declared = declarations.get(`${pkg.pkg}/${pkg.version}`)?.get(goName);
    const properties: Record<string, FieldType> = {};
    for (const attribute of attributesOf(className)) {
      const declaredType = declared?.get(attribute.baseName);
      let quantity = declaredType !== undefined && /\bQuantity\b/.test(declaredType);
      if (declaredType === undefined && QUANTITY_FIELD_NAMES.has(attribute.baseName) && /string/.test(attribute.type)) {
        quantity = true;
        quantitiesByName.push(`${name}.${attribute.baseName}`);
      }
      properties[attribute.baseName] = fieldType(
        attribute.type,
        attribute.format,
        { quantity, declared: declaredType },
        { pkg, name, className, property: attribute.baseName },
      );
    }
    const definition: ObjectDefinition = { type: 'object', properties: sortKeys(properties) };
    const required = requiredOf(className);
    if (required.length > 0) definition.required = required.sort();
    if (gvk) definition.gvk = gvk;
    definitions.set(name, definition);
  }

  for (const root of roots()) {
    const prefixed = `${capitalise(root.pkg.pkg)}${capitalise(root.pkg.version)}${root.kind}`;
    const className = hasClass(prefixed) ? prefixed : `${capitalise(root.pkg.version)}${root.kind}`;
    const pkg = packageOf(className, root.pkg, 'root');
    if (pkg.pkg !== root.pkg.pkg) throw new Error(`${className} maps to ${pkg.pkg}, expected ${root.pkg.pkg}`);
    const name = canonicalName(pkg, root.kind);
    const existing = definitions.get(name);
    if (existing?.type === 'object' && existing.gvk) continue; // the same subresource kind twice
    classToName.set(className, name);
    walk(className, pkg, name, root.gvk);
  }
  while (queue.length > 0) {
    const next = queue.shift();
    if (!next || definitions.has(next.name)) continue;
    walk(next.className, next.pkg, next.name);
  }

  for (const time of [TIME, MICRO_TIME]) definitions.set(time, { type: 'date-time' });
  definitions.set(INT_OR_STRING, { type: 'int-or-string' });
  definitions.set(QUANTITY, { type: 'quantity' });
  definitions.set(RAW_EXTENSION, { type: 'free-form' });
  definitions.set(FIELDS_V1, { type: 'free-form' });

  const data: SchemaData = {
    source: `@kubernetes/client-node ${packageVersion(clientNodeRoot)}, kubernetes-types ${packageVersion(kubernetesTypesRoot)}`,
    definitions: sortKeys(Object.fromEntries(definitions)),
  };
  return { data, packagesInferred: packagesInferred.sort(), quantitiesByName: quantitiesByName.sort() };
}

function packageVersion(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The committed file's text: one definition a line, so that a regeneration diffs readably. */
export function serializeSchemaData(data: SchemaData): string {
  const lines = Object.entries(data.definitions).map(([name, def]) => `    ${JSON.stringify(name)}: ${JSON.stringify(def)}`);
  return `{\n  "source": ${JSON.stringify(data.source)},\n  "definitions": {\n${lines.join(',\n')}\n  }\n}\n`;
}

export const SCHEMA_DATA_PATH = join(dirname(fileURLToPath(import.meta.url)), 'types.json');

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = generateSchemaData();
  writeFileSync(SCHEMA_DATA_PATH, serializeSchemaData(report.data));
  console.log(`wrote ${Object.keys(report.data.definitions).length} definitions to ${SCHEMA_DATA_PATH}`);
  if (report.packagesInferred.length > 0) {
    console.log(`package taken from the referring type (not in kubernetes-types):\n  ${report.packagesInferred.join('\n  ')}`);
  }
  if (report.quantitiesByName.length > 0) {
    console.log(`Quantity recognised by field name only:\n  ${report.quantitiesByName.join('\n  ')}`);
  }
}
