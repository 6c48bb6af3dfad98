export * from './correlation';
export * from './log-context';
