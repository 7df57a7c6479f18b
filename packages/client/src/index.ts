export { ConvergeClient, type ConvergeClientOptions } from './converge-client';
export { ConvergeProblemError, type Problem } from './problem-error';
export type * from './types';
// The full generated types (`paths`, `operations`, `components`) for callers who need more than the named shapes.
export type * as CommandApi from './generated/command-api';
export type * as QueryApi from './generated/query-api';
