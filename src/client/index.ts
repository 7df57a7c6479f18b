export { ConvergeClient, type ConvergeClientOptions } from './converge-client';
export { ConvergeProblemError, type Problem } from './problem-error';
export type * from './types';
