import { buildOpenApiV3, KINDS, type KindInfo } from '@pressluft/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

/*
 * The OpenAPI document covers every route the server has, and nothing else: the HTTP router of
 * a booted control plane is walked (every method and path), and each route must be in the
 * document, each documented operation a route. A route added without its document fails here.
 */

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The kind verb each method of the generic `:plural` routes needs (resources.controller.ts answers 405 without it). */
function verbOf(method: string, path: string): string {
  if (method !== 'get') return { post: 'create', put: 'update', patch: 'patch', delete: 'delete' }[method] ?? method;
  if (path.includes('/watch/')) return 'watch';
  return path.endsWith(':name') ? 'get' : 'list';
}

/** `method path` of one route, Nest's `:param` written as OpenAPI's `{param}`; the generic kind routes once per kind that serves the verb. */
function operationsOf(method: string, path: string, kinds: readonly KindInfo[]): string[] {
  const openApiPath = (p: string) => p.replace(/:([A-Za-z]+)/g, '{$1}');
  if (!path.includes(':plural')) return [`${method} ${openApiPath(path)}`];
  return kinds.filter((k) => k.verbs.includes(verbOf(method, path))).map((k) => `${method} ${openApiPath(path.replace(':plural', k.plural))}`);
}

describe('OpenAPI document: every route', () => {
  let cp: ControlPlaneFixture;
  let routes: string[];
  const doc = buildOpenApiV3() as { paths: Record<string, Partial<Record<(typeof METHODS)[number], unknown>>> };
  const documented = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => `${m} ${path}`));

  beforeAll(async () => {
    cp = await startControlPlaneFixture();
    const express = cp.plane.app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } };
    const served = KINDS.filter((k) => k.served);
    routes = express.router.stack.flatMap((layer) => {
      const route = layer.route;
      if (!route) return [];
      return Object.keys(route.methods)
        .filter((m) => route.methods[m] && m !== '_all')
        .flatMap((method) => operationsOf(method, route.path, served));
    });
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('finds the routes of every controller', () => {
    expect(routes).toEqual(
      expect.arrayContaining([
        'get /apis/pressluft.io/v1/sites',
        'post /apis/pressluft.io/v1/sites/{name}/rollback',
        'post /apis/pressluft.io/v1/commands/{name}/retry',
        'delete /auth/v1/jointokens/{id}',
        'get /healthz',
      ]),
    );
  });

  it('documents every route', () => {
    expect(routes.filter((route) => !documented.includes(route))).toEqual([]);
  });

  it('documents no route the server lacks', () => {
    expect(documented.filter((operation) => !routes.includes(operation))).toEqual([]);
  });

  it('serves this document', async () => {
    const res = await fetch(`${cp.plane.httpUrl}/openapi/v3/apis/pressluft.io/v1`, { headers: { authorization: `Bearer ${cp.adminToken}` } });
    expect(await res.json()).toEqual(doc);
  });
});
