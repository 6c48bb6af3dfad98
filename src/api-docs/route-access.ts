import type { INestApplication, Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { IS_PUBLIC, MIN_LEVEL, QUERY_KEY_ALLOWED, type UserLevel } from '../auth';
import { NO_RATE_LIMIT } from '../rate-limits';

/** Who may call a route, read from the same metadata, the same way, as the global auth guard reads it. */
export interface RouteAccess {
  public: boolean;
  /** The lowest level allowed (routes without @MinLevel are admin-only); null when public. */
  minLevel: UserLevel | null;
  /** `?api_key=` accepted besides the headers (the event stream, for browsers' EventSource). */
  queryKey: boolean;
  /** Counted against its caller's allowance (everything but @NoRateLimit routes). */
  rateLimited: boolean;
}

/** The operation id the document gives a handler: `Jobs_submit` for JobsController.submit. */
export function operationId(controllerName: string, methodName: string): string {
  return `${controllerName.replace(/Controller$/, '')}_${methodName}`;
}

/** Every route handler of the app by operation id, with its access rules. */
export function routeAccessByOperation(app: INestApplication): Map<string, RouteAccess> {
  const reflector = new Reflector();
  const out = new Map<string, RouteAccess>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller?.prototype) continue;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = Object.getOwnPropertyDescriptor(controller.prototype, name)?.value as unknown;
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const targets = [handler, controller];
        const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) ?? false;
        out.set(operationId(controller.name, name), {
          public: isPublic,
          minLevel: isPublic ? null : (reflector.getAllAndOverride<UserLevel>(MIN_LEVEL, targets) ?? 'admin'),
          queryKey: reflector.getAllAndOverride<boolean>(QUERY_KEY_ALLOWED, targets) ?? false,
          rateLimited: !(reflector.getAllAndOverride<boolean>(NO_RATE_LIMIT, targets) ?? false),
        });
      }
    }
  }
  return out;
}
