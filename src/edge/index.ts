export { AllExceptionsFilter, sendErrorResponse } from './all-exceptions.filter';
export { installClientErrorHandler } from './correlation.middleware';
export { installRequestEdge } from './request-edge';
export { releaseRequestTimeout } from './request-timeout';
