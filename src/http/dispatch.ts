/**
 * Router-agnostic dispatch of the ready-made routes: a method and a path relative to the prefix in,
 * a response out (the route's answer, a CORS preflight, or 404 JSON). For adapters whose framework
 * mounts one handler under a prefix (Express's `app.use`, Koa, Next.js catch-all route handlers,
 * a NestJS controller) instead of registering each route.
 */
import type { RouteDefinition, SessionRoutes } from './routes.js';
import type { HttpRequest, HttpResponse } from './types.js';

/** Answers one request; `path` is relative to the prefix (`/login`, `/sessions/abc`), query removed or not. */
export type RouteDispatcher = (request: HttpRequest, method: string, path: string) => Promise<HttpResponse>;

export function createRouteDispatcher(routes: SessionRoutes): RouteDispatcher {
  const exact = new Map<string, RouteDefinition>();
  const byId = new Map<string, RouteDefinition>();
  for (const route of routes.routes) {
    if (route.path.endsWith('/:id')) byId.set(`${route.method} ${route.path.slice(0, -4)}`, route);
    else exact.set(`${route.method} ${route.path}`, route);
  }
  const preflightPaths = new Set(routes.paths.keys());
  return async (request, rawMethod, rawPath) => {
    const method = rawMethod.toUpperCase();
    let path = rawPath.split('?', 1)[0]!;
    if (path === '') path = '/';
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const lookup = method === 'HEAD' ? 'GET' : method;
    const route = exact.get(`${lookup} ${path}`);
    if (route !== undefined) return route.handle(request, {});
    const slash = path.lastIndexOf('/');
    if (slash > 0) {
      const byIdRoute = byId.get(`${lookup} ${path.slice(0, slash)}`);
      if (byIdRoute !== undefined) {
        let id: string;
        try {
          id = decodeURIComponent(path.slice(slash + 1));
        } catch {
          id = '';
        }
        return byIdRoute.handle(request, { id });
      }
    }
    if (method === 'OPTIONS') {
      const template = preflightPaths.has(path) ? path : slash > 0 ? `${path.slice(0, slash)}/:id` : path;
      if (preflightPaths.has(template)) return routes.preflight(request, template);
    }
    return routes.notFound(request);
  };
}
