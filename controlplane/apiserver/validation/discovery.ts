// discovery.k8s.io/v1 EndpointSlices (discovery validation ValidateEndpointSlice): addresses
// of the declared type, valid endpoint fields, named ports with a protocol.

import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../../../api/names.js';
import { PORT_PROTOCOLS } from './containers.js';
import { FieldPath } from './field-path.js';
import { has, items, text } from './json-shapes.js';
import { validateLabels } from './label-selector.js';
import { isValidIPv4Address, isValidIPv6Address, validateNonSpecialIP } from './network.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;

function validateFQDN(path: FieldPath, value: string): FieldError[] {
  if (!value) return [fieldError.required(path.toString())];
  const msgs = isDNS1123Subdomain(value.toLowerCase());
  if (msgs.length > 0) return [fieldError.invalid(path.toString(), value, msgs.join(','))];
  if (value.split('.').length < 2) return [fieldError.invalid(path.toString(), value, 'should be a domain with at least two segments separated by dots')];
  return [];
}

export function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  const errs = validateObjectMeta(metaOf(slice), { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true });
  const addressType = text(slice.addressType);
  if (!addressType) errs.push(fieldError.required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(fieldError.notSupported('addressType', addressType, ADDRESS_TYPES));

  const endpoints = items(slice.endpoints);
  const endpointsPath = FieldPath.of('endpoints');
  if (endpoints.length > MAX_ENDPOINTS) errs.push(fieldError.tooMany(endpointsPath.toString(), MAX_ENDPOINTS, endpoints.length));
  else {
    endpoints.forEach((ep, i) => {
      const p = endpointsPath.index(i);
      const addresses = items(ep.addresses);
      const addrPath = p.child('addresses');
      if (addresses.length === 0) errs.push(fieldError.required(addrPath.toString(), 'must contain at least 1 address'));
      else if (addresses.length > MAX_ADDRESSES) errs.push(fieldError.tooMany(addrPath.toString(), MAX_ADDRESSES, addresses.length));
      addresses.forEach((a, j) => {
        const ap = addrPath.index(j);
        if (addressType === 'IPv4') errs.push(...isValidIPv4Address(ap, text(a)), ...validateNonSpecialIP(ap, text(a)));
        if (addressType === 'IPv6') errs.push(...isValidIPv6Address(ap, text(a)), ...validateNonSpecialIP(ap, text(a)));
        if (addressType === 'FQDN') errs.push(...validateFQDN(ap, text(a)));
      });
      if (ep.nodeName !== undefined && ep.nodeName !== null) {
        errs.push(...isDNS1123Subdomain(text(ep.nodeName)).map((msg) => fieldError.invalid(p.child('nodeName').toString(), ep.nodeName, msg)));
      }
      errs.push(...validateLabels(ep.deprecatedTopology, p.child('deprecatedTopology')));
      if (ep.hostname !== undefined && ep.hostname !== null) {
        errs.push(...isDNS1123Label(text(ep.hostname)).map((msg) => fieldError.invalid(p.child('hostname').toString(), ep.hostname, msg)));
      }
      if (has(ep.hints)) {
        const zones = new Set<string>();
        items(ep.hints.forZones).forEach((z, k) => {
          const zp = p.child('hints', 'forZones').index(k).child('name').toString();
          if (zones.has(text(z.name))) errs.push(fieldError.duplicate(zp, z.name));
          zones.add(text(z.name));
          errs.push(...isValidLabelValue(text(z.name)).map((msg) => fieldError.invalid(zp, z.name, msg)));
        });
      }
    });
  }

  const ports = items(slice.ports);
  const portsPath = FieldPath.of('ports');
  if (ports.length > MAX_PORTS) errs.push(fieldError.tooMany(portsPath.toString(), MAX_PORTS, ports.length));
  else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = portsPath.index(i);
      const name = text(port.name);
      if (name) errs.push(...isDNS1123Label(name).map((msg) => fieldError.invalid(p.child('name').toString(), name, msg)));
      if (names.has(name)) errs.push(fieldError.duplicate(p.child('name').toString(), name));
      names.add(name);
      if (port.protocol === undefined || port.protocol === null) errs.push(fieldError.required(p.child('protocol').toString()));
      else if (!PORT_PROTOCOLS.includes(port.protocol)) errs.push(fieldError.notSupported(p.child('protocol').toString(), port.protocol, PORT_PROTOCOLS));
      if (port.appProtocol !== undefined && port.appProtocol !== null) {
        errs.push(...isQualifiedName(text(port.appProtocol)).map((msg) => fieldError.invalid(p.child('appProtocol').toString(), port.appProtocol, msg)));
      }
    });
  }
  return errs;
}

export function validateEndpointSliceUpdate(slice: EndpointSlice, old: EndpointSlice): FieldError[] {
  const errs = [...validateObjectMetaUpdate(metaOf(slice), metaOf(old), { kubeFinalizers: true }), ...validateEndpointSlice(slice)];
  if (text(slice.addressType) !== text(old.addressType)) errs.push(fieldError.immutable('addressType', text(slice.addressType)));
  return errs;
}
