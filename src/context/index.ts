export {
  CLS_CORRELATION_ID,
  CLS_TRACEPARENT,
  CLS_CLIENT_IP,
  generateCorrelationId,
  isValidCorrelationId,
  peekCorrelationId,
  getCorrelationId,
  setCorrelationId,
  clearCorrelationId,
  runWithCorrelationId,
  switchCorrelationId,
  getTraceparent,
  getClientIp,
  peekLogState,
} from './correlation';
export type { TraceContext } from './correlation';
export { LogContext } from './log-context';
export type { LogFields } from './log-context';
