import type { SimulatorProfileName } from './types';

/** A request as a profile sees it (auth, faults and idempotency are the server's). */
export interface SimRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export interface SimAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Routed {
  /** The route template, e.g. `POST /locations/{locationId}/visits`: one endpoint. */
  readonly endpoint: string;
  readonly params: Readonly<Record<string, string>>;
  readonly write: boolean;
}

export type Admission =
  | { readonly refusal: SimAnswer }
  | { readonly headers: Readonly<Record<string, string>> };

export interface ProfileBehaviour {
  route(method: string, path: string): Routed | undefined;
  /** Checks the limits and takes them on admission; a refusal takes nothing (except waitwhile's general limit). */
  admit(request: SimRequest, routed: Routed, nowMs: number): Admission;
  /** The 2xx answer, after the service time. */
  answer(request: SimRequest, routed: Routed): SimAnswer;
  /** The admitted request is over (answered, dropped or abandoned). */
  release(routed: Routed): void;
}

interface RouteSpec {
  readonly method: string;
  readonly template: string;
}

/** Each profile's endpoints; docs/vendor.md lists them. */
export const ROUTES: Readonly<Record<SimulatorProfileName, readonly RouteSpec[]>> = {
  sweeppea: [
    { method: 'POST', template: '/v1/contacts' },
    { method: 'GET', template: '/v1/contacts/{id}' },
    { method: 'POST', template: '/v1/participants/add' },
  ],
  waitwhile: [
    { method: 'POST', template: '/locations/{locationId}/visits' },
    { method: 'GET', template: '/locations/{locationId}' },
    { method: 'POST', template: '/visits' },
    { method: 'PATCH', template: '/visits/{visitId}' },
  ],
  openai: [{ method: 'POST', template: '/v1/chat/completions' }],
};

export function routeFor(profile: SimulatorProfileName, method: string, path: string): Routed | undefined {
  for (const spec of ROUTES[profile]) {
    if (spec.method !== method) continue;
    const names: string[] = [];
    const pattern = spec.template.replace(/\{([^}]+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    const params = Object.fromEntries(
      names.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
    );
    return { endpoint: `${spec.method} ${spec.template}`, params, write: spec.method !== 'GET' };
  }
  return undefined;
}
