// "Who am I and what may I do", asked of the API server: authentication.k8s.io/v1
// SelfSubjectReview (`kubectl auth whoami`) and authorization.k8s.io/v1 SelfSubjectAccessReview
// (`kubectl auth can-i`, and dashboards such as k9s before they show an action) and
// SelfSubjectRulesReview (`kubectl auth can-i --list`). Nothing is stored: each create answers
// with its status, decided by the same authorizer that guards every request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, methodNotAllowed, StatusError } from '../../api/errors.js';
import { RESOURCES } from '../../api/resources.js';
import type { ResourceType } from '../../api/resources.js';
import { decodeObject, readBodyBytes, sendJson } from './http.js';
import { isAdmin } from './nodeauth.js';
import type { RequestInfo, Verb } from './requestinfo.js';
import type { User } from './server.js';

const AUTHENTICATION = 'authentication.k8s.io';
const AUTHORIZATION = 'authorization.k8s.io';

function reviewResource(group: string, kind: string, plural: string): ResourceType {
  return { group, version: 'v1', kind, plural, singular: '', namespaced: false, shortNames: [], categories: [], verbs: ['create'], subresources: [] };
}

/** The review resources, for discovery (kubectl looks them up before it posts). */
export const SELF_REVIEW_RESOURCES: readonly ResourceType[] = [
  reviewResource(AUTHENTICATION, 'SelfSubjectReview', 'selfsubjectreviews'),
  reviewResource(AUTHORIZATION, 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  reviewResource(AUTHORIZATION, 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
];

const PATHS = new Map(SELF_REVIEW_RESOURCES.map((r) => [`/apis/${r.group}/${r.version}/${r.plural}`, r]));

const REQUEST_VERBS = new Set<string>(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface ReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: { path?: string; verb?: string };
  namespace?: string;
}

/** Throws a Forbidden StatusError when `user` may not make the request (the server's authorizer). */
export type Authorize = (user: User, info: RequestInfo, query: URLSearchParams) => Promise<void>;

export class SelfReviews {
  constructor(private readonly authorize: Authorize) {}

  /** Serves a review create; false when `path` is not one. */
  async serve(req: IncomingMessage, res: ServerResponse, path: string, user: User): Promise<boolean> {
    const resource = PATHS.get(path);
    if (!resource) return false;
    if (req.method !== 'POST') throw methodNotAllowed(`${req.method ?? ''} is not supported on ${resource.plural}.${resource.group}: only create is`);
    const body = decodeObject(await readBodyBytes(req), req.headers['content-type'], resource.kind) as { spec?: ReviewSpec; metadata?: object };
    const answer = { kind: resource.kind, apiVersion: `${resource.group}/v1`, metadata: { creationTimestamp: null } };
    const userInfo = { username: user.name, groups: user.groups };
    switch (resource.kind) {
      case 'SelfSubjectReview':
        sendJson(res, 201, { ...answer, status: { userInfo } });
        break;
      case 'SelfSubjectAccessReview':
        sendJson(res, 201, { ...answer, spec: body.spec ?? {}, status: await this.decide(user, body.spec ?? {}) });
        break;
      default:
        sendJson(res, 201, { ...answer, spec: body.spec ?? {}, status: this.rules(user) });
    }
    return true;
  }

  /** SubjectAccessReviewStatus for `spec`, asked of the authorizer as if the user made the request. */
  private async decide(user: User, spec: ReviewSpec): Promise<{ allowed: boolean; reason?: string; denied?: boolean }> {
    const attributes = spec.resourceAttributes;
    const nonResource = spec.nonResourceAttributes;
    if (!attributes === !nonResource) throw badRequest('exactly one of spec.resourceAttributes and spec.nonResourceAttributes must be set');
    if (isAdmin(user)) return { allowed: true, reason: 'the group system:masters may do everything' };
    let info: RequestInfo;
    if (nonResource) {
      if (nonResource.verb !== 'get' && nonResource.verb !== 'head') return { allowed: false };
      info = { type: 'non-resource', path: nonResource.path ?? '/' };
    } else {
      const resource = RESOURCES.find((r) => r.group === (attributes!.group ?? '') && r.plural === attributes!.resource);
      const verb = attributes!.verb ?? '';
      // Kinds and verbs no request can carry are allowed only to administrators.
      if (!resource || !REQUEST_VERBS.has(verb)) return { allowed: false };
      info = {
        type: 'resource',
        resource,
        verb: verb as Verb,
        namespace: resource.namespaced ? attributes!.namespace || undefined : undefined,
        name: attributes!.name || undefined,
        subresource: attributes!.subresource || undefined,
      };
    }
    try {
      await this.authorize(user, info, new URLSearchParams());
      return { allowed: true };
    } catch (err) {
      if (err instanceof StatusError && err.code === 403) return { allowed: false, reason: err.message };
      throw err;
    }
  }

  /** SubjectRulesReviewStatus: everything for administrators; nodes' rules depend on the object asked about. */
  private rules(user: User): object {
    if (isAdmin(user)) {
      return {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      };
    }
    return {
      resourceRules: [],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi', '/openapi/*', '/healthz', '/livez', '/readyz'] }],
      incomplete: true,
      evaluationError: "Skiff's node authorizer decides per object (a node's own pods, secrets and leases): ask with kubectl auth can-i VERB RESOURCE/NAME",
    };
  }
}
