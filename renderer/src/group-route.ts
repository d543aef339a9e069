// A group's place in the router. Group ids are standard base64, whose `/` and
// `+` would need escaping in a path; the route carries the URL-safe alphabet.
import type { RouteLocationRaw } from 'vue-router';

/** A group id as a route parameter. */
export function groupRouteParam(groupId: string): string {
  return groupId.replace(/\+/g, '-').replace(/\//g, '_');
}

/** The route of a group's conversation. */
export function groupRoute(groupId: string): RouteLocationRaw {
  return { name: 'group', params: { groupId: groupRouteParam(groupId) } };
}

/** The group id a route parameter names (the inverse of groupRouteParam). */
export function groupIdOf(param: string): string {
  return param.replace(/-/g, '+').replace(/_/g, '/');
}

/**
 * Where a screen opened from a group returns to: the group named by a
 * `?group=` query, if it is a well-formed group parameter (a query is only
 * text in the URL; anything else is ignored).
 */
export function returnGroup(query: unknown): RouteLocationRaw | null {
  return typeof query === 'string' && /^[A-Za-z0-9_-]{43}=$/.test(query)
    ? { name: 'group', params: { groupId: query } }
    : null;
}
