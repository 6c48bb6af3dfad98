import { TransactionHost } from '@nestjs-cls/transactional';
import { copyMethodMetadata } from 'nestjs-cls';

const hosts = new WeakMap<object, TransactionHost>();

function hostOf(service: object): TransactionHost {
  let host = hosts.get(service);
  if (!host) {
    host = Object.values(service).find((v): v is TransactionHost => v instanceof TransactionHost);
    if (!host) {
      throw new Error(`${service.constructor.name} uses @Transactional() but has no TransactionHost injected`);
    }
    hosts.set(service, host);
  }
  return host;
}

/**
 * Marks a service method as one unit of work: it runs in a transaction (joining the caller's when one is open),
 * and every repository call inside it joins that transaction through the CLS-carried TransactionHost.
 *
 * Unlike @nestjs-cls/transactional's own decorator, which looks the TransactionHost up in a process-wide static
 * (the last app created wins), this one uses the host injected into the service itself, so several apps in one
 * process (the multi-instance tests, an enterprise build embedding two) each use their own database.
 */
export function Transactional(): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    descriptor.value = function (this: object, ...args: unknown[]) {
      return hostOf(this).withTransaction(() => original.apply(this, args));
    };
    copyMethodMetadata(original, descriptor.value as (...args: unknown[]) => unknown);
  };
}
