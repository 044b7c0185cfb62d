import { retryAfterHeader, SimulatorBucket } from './bucket';
import { openai } from './openai';
import { type ProfileBehaviour, routeFor } from './routes';
import type { SimulatorLimits, SimulatorProfileName } from './types';

export function createProfile(
  profile: SimulatorProfileName,
  limits: SimulatorLimits,
  graceMs: number,
): ProfileBehaviour {
  if (profile === 'sweeppea') return sweeppea(limits, graceMs);
  if (profile === 'waitwhile') return waitwhile(limits, graceMs);
  return openai(limits, graceMs);
}

let nextId = 1;
const newId = (prefix: string) => `${prefix}_${String(nextId++).padStart(6, '0')}`;
const route = (profile: SimulatorProfileName) => (method: string, path: string) =>
  routeFor(profile, method, path);
const objectBody = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/** Seed 000: every endpoint is a Lambda with reserved concurrency 1, behind a per-minute limit. */
function sweeppea(limits: SimulatorLimits, graceMs: number): ProfileBehaviour {
  const inFlight = new Map<string, number>();
  const perMinute = new SimulatorBucket(limits.requestsPerMinute, 60);
  return {
    route: route('sweeppea'),
    admit(_request, routed, nowMs) {
      const busy = inFlight.get(routed.endpoint) ?? 0;
      if (busy >= limits.concurrentPerEndpoint) {
        return {
          refusal: { status: 503, body: { error: 'Service Unavailable: processing another request' } },
        };
      }
      if (!perMinute.fits(1, nowMs, graceMs)) {
        const retryAfter = retryAfterHeader(perMinute.waitSeconds(1, nowMs));
        return {
          refusal: {
            status: 429,
            body: { error: 'Too Many Requests' },
            headers: { 'retry-after': retryAfter },
          },
        };
      }
      perMinute.take(1, nowMs);
      inFlight.set(routed.endpoint, busy + 1);
      return { headers: {} };
    },
    answer(request, routed) {
      if (routed.write) return { status: 201, body: { id: newId('ct'), ...objectBody(request.body) } };
      return { status: 200, body: { id: routed.params.id } };
    },
    release(routed) {
      inFlight.set(routed.endpoint, Math.max(0, (inFlight.get(routed.endpoint) ?? 0) - 1));
    },
  };
}

/** Seed 002: 5 requests/s in all; writes to one location at 1/s, answered 409 "Location too busy". */
function waitwhile(limits: SimulatorLimits, graceMs: number): ProfileBehaviour {
  const general = new SimulatorBucket(limits.requestsPerSecond, 1);
  const locations = new Map<string, SimulatorBucket>();
  return {
    route: route('waitwhile'),
    admit(request, routed, nowMs) {
      if (!general.fits(1, nowMs, graceMs)) {
        const retryAfter = retryAfterHeader(general.waitSeconds(1, nowMs));
        return {
          refusal: {
            status: 429,
            body: { error: 'Too many requests' },
            headers: { 'retry-after': retryAfter },
          },
        };
      }
      // "Calls to certain resources have stricter limits, and also count against the general limits."
      general.take(1, nowMs);
      const locationId = routed.params.locationId ?? stringField(request.body, 'locationId');
      if (!routed.write || locationId === undefined) return { headers: {} };
      let location = locations.get(locationId);
      if (!location) {
        location = new SimulatorBucket(limits.locationWritesPerSecond, 1);
        locations.set(locationId, location);
      }
      if (!location.fits(1, nowMs, graceMs)) {
        return { refusal: { status: 409, body: { error: 'Location too busy', locationId } } };
      }
      location.take(1, nowMs);
      return { headers: {} };
    },
    answer(request, routed) {
      const locationId = routed.params.locationId ?? stringField(request.body, 'locationId');
      if (!routed.write) return { status: 200, body: { id: locationId, name: `Location ${locationId}` } };
      return { status: 201, body: { id: newId('visit'), ...objectBody(request.body), locationId } };
    },
    release() {},
  };
}

function stringField(body: unknown, field: string): string | undefined {
  const value = objectBody(body)[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
