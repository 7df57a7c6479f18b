import { connectionFailure, Dependency } from '../unreachable';
import { Problem, ProblemMapper, problemType } from './problem';

/** A request that failed because its store is down or going away answers 503 (with Retry-After), never 500. */
export function unavailableProblem(dependency: Exclude<Dependency, 'NATS'>): ProblemMapper {
  return (error): Problem | undefined => {
    const reason = connectionFailure(error);
    if (reason === undefined) return undefined;
    return {
      type: problemType('unavailable'),
      title: 'Service unavailable',
      status: 503,
      detail: `the ${dependency} is unavailable (${reason}); retry later`,
    };
  };
}
