import { Inject } from '@nestjs/common';
import { PROPERTY_DEPS_METADATA } from '@nestjs/common/constants';
import { TransactionHost } from '@nestjs-cls/transactional';
import { copyMethodMetadata } from 'nestjs-cls';

/** Where the decorator keeps the host it has Nest inject into the service (no field of the service's own). */
const HOST = Symbol('simpletuner.transactionHost');

type WithHost = { [HOST]?: TransactionHost };

/** Has Nest inject the TransactionHost into every instance of the class, once per class. */
function injectHost(prototype: object): void {
  const declared = (Reflect.getMetadata(PROPERTY_DEPS_METADATA, prototype.constructor) ?? []) as { key: unknown }[];
  if (!declared.some((d) => d.key === HOST)) Inject(TransactionHost)(prototype, HOST);
}

/**
 * Marks a service method as one unit of work: it runs in a transaction (joining the caller's when one is open),
 * and every repository call inside it joins that transaction through the CLS-carried TransactionHost. This is the
 * one way the service opens a transaction: a step that needs a short transaction of its own is a method with this
 * decorator, called outside any other unit of work.
 *
 * The decorator has Nest inject the app's own TransactionHost into the service (a property it declares itself), so
 * the service declares nothing for it, and several apps in one process (the multi-instance tests, an enterprise
 * build embedding two) each use their own database. @nestjs-cls/transactional's own decorator looks the host up in a
 * process-wide static instead (the last app created wins).
 */
export function Transactional(): MethodDecorator {
  return (prototype, key, descriptor: PropertyDescriptor) => {
    injectHost(prototype);
    const original = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    descriptor.value = function (this: WithHost, ...args: unknown[]) {
      const host = this[HOST];
      if (!host)
        throw new Error(`${this.constructor.name}.${String(key)}: no TransactionHost injected (not built by Nest?)`);
      return host.withTransaction(() => original.apply(this, args));
    };
    copyMethodMetadata(original, descriptor.value as (...args: unknown[]) => unknown);
  };
}
