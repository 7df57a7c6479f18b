import { Problem, problemType } from '../../src/http/problem';
import { InvalidViewQueryError } from '../view-store/view-query';

/** How the read side's errors cross the HTTP boundary. */
export function readModelProblem(error: unknown): Problem | undefined {
  if (error instanceof InvalidViewQueryError) {
    return { type: problemType('invalid-query'), title: 'Invalid query', status: 400, detail: error.message };
  }
  return undefined;
}
