// Lookups over the committed type schema data (types.json, written by generate.ts): the
// definition of a kind, of a named type, and the type of one property.

import type { GroupVersionKind } from '../resources.js';
import type { Definition, FieldType, ObjectDefinition, SchemaData } from './model.js';
import data from './types.json' with { type: 'json' };

export const schemaData: SchemaData = data as unknown as SchemaData;

function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

const definitionOfKind = new Map<string, string>();
for (const [name, def] of Object.entries(schemaData.definitions)) {
  if (def.type !== 'object' || !def.gvk) continue;
  for (const gvk of def.gvk) {
    // DeleteOptions is registered in every group version; a kind's own definition wins.
    if (!definitionOfKind.has(gvkKey(gvk)) || def.gvk.length === 1) definitionOfKind.set(gvkKey(gvk), name);
  }
}

export function definition(name: string): Definition | undefined {
  return schemaData.definitions[name];
}

export function objectDefinition(name: string): ObjectDefinition | undefined {
  const def = schemaData.definitions[name];
  return def?.type === 'object' ? def : undefined;
}

/** The canonical definition name of a kind (`io.k8s.api.apps.v1.Deployment`), if Skiff knows it. */
export function definitionNameOfKind(gvk: GroupVersionKind): string | undefined {
  return definitionOfKind.get(gvkKey(gvk));
}

/** The type of one property of a struct definition, if the struct has it. */
export function propertyType(definitionName: string, property: string): FieldType | undefined {
  const def = objectDefinition(definitionName);
  return def && Object.hasOwn(def.properties, property) ? def.properties[property] : undefined;
}
