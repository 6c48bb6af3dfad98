import { ClsServiceManager } from 'nestjs-cls';
import { CLS_LOG_FIELDS } from './correlation';

export type LogFields = Record<string, unknown>;

/**
 * Structured fields added to every log line inside a scope. Backed by AsyncLocalStorage via
 * nestjs-cls, so scopes follow awaits, timers and promise chains and never leak between requests.
 */
export const LogContext = {
  run<T>(fields: LogFields, fn: () => T): T {
    const cls = ClsServiceManager.getClsService();
    const outer = LogContext.current();
    // 'inherit' copies the parent's store: the correlation id stays, and our write stays local. Frozen: the
    // scope's fields never change, so the log formatter serialises them once per scope.
    return cls.run({ ifNested: 'inherit' }, () => {
      cls.set(CLS_LOG_FIELDS, Object.freeze({ ...outer, ...fields }));
      return fn();
    });
  },

  current(): LogFields {
    const cls = ClsServiceManager.getClsService();
    if (!cls.isActive()) return {};
    return cls.get<LogFields | undefined>(CLS_LOG_FIELDS) ?? {};
  },
};
