import { API_GROUP, API_VERSION, GROUP_VERSION } from './api-group.js';
import { KINDS } from './kinds.js';

/** `GET /apis/pressluft.io/v1`: what kubectl reads to map `sites`/`st` to a kind and its verbs. */
export function buildApiResourceList(): Record<string, unknown> {
  const served = KINDS.filter((k) => k.served);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: [
      ...served.map((k) => ({
        name: k.plural,
        singularName: k.singular,
        namespaced: false,
        kind: k.kind,
        verbs: [...k.verbs],
        shortNames: [...k.shortNames],
        // `kubectl get pressluft` lists every kind at once.
        categories: ['pressluft'],
      })),
    ],
  };
}

const groupVersion = { groupVersion: GROUP_VERSION, version: API_VERSION };

/** `GET /apis/pressluft.io`. */
export function buildApiGroup(): Record<string, unknown> {
  return { kind: 'APIGroup', apiVersion: 'v1', name: API_GROUP, versions: [{ ...groupVersion }], preferredVersion: { ...groupVersion } };
}

/** `GET /apis`. */
export function buildApiGroupList(): Record<string, unknown> {
  const { kind: _kind, apiVersion: _apiVersion, ...group } = buildApiGroup();
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };
}
