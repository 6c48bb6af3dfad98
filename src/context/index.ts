export {
  CLS_CORRELATION_ID,
  CLS_TRACEPARENT,
  generateCorrelationId,
  isValidCorrelationId,
  peekCorrelationId,
  getCorrelationId,
  setCorrelationId,
  clearCorrelationId,
  runWithCorrelationId,
  switchCorrelationId,
  getTraceparent,
  peekLogState,
} from './correlation';
export type { TraceContext } from './correlation';
export { LogContext } from './log-context';
export type { LogFields } from './log-context';
