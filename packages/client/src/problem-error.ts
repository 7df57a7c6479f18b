import type { EditConflict, FieldConflict } from './types';

/** An RFC 9457 problem document as both APIs send it (`application/problem+json`). */
export interface Problem {
  /** `urn:converge:problem:<kind>`: stable per kind of error, switch on it. */
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Validation errors only: one entry per field. */
  errors?: { field: string; messages: string[]; in?: 'body' | 'query' }[];
  /** `edit-conflict` only: each field your edit and the changes since your `ifMatch` disagree on. */
  conflicts?: FieldConflict[];
  /** Domain extensions, e.g. `reason`, `currentVersion`, `currentStatus`, `sku`. */
  [extension: string]: unknown;
}

const PREFIX = 'urn:converge:problem:';

/** Thrown by ConvergeClient for every 4xx/5xx answer, carrying the problem document. */
export class ConvergeProblemError extends Error {
  override name = 'ConvergeProblemError';

  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
  }

  get status(): number {
    return this.problem.status;
  }

  /** The kind after `urn:converge:problem:`, e.g. `validation` or `insufficient-stock`. */
  get kind(): string {
    return this.problem.type.startsWith(PREFIX) ? this.problem.type.slice(PREFIX.length) : this.problem.type;
  }

  get errors(): NonNullable<Problem['errors']> {
    return this.problem.errors ?? [];
  }

  /** A 409 `edit-conflict`'s details (both values of each field, who changed it and in which version), else undefined. */
  get editConflict(): EditConflict | undefined {
    const { conflicts, expectedVersion, currentVersion } = this.problem;
    if (this.kind !== 'edit-conflict' || !Array.isArray(conflicts)) return undefined;
    return { expectedVersion: Number(expectedVersion), currentVersion: Number(currentVersion), conflicts };
  }
}

/** Builds the error from an answer; a body that is no problem document still becomes one (e.g. a proxy's 502). */
export async function problemFrom(response: Response): Promise<ConvergeProblemError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (typeof body?.type === 'string' && typeof body.title === 'string') {
      return new ConvergeProblemError({ ...body, status: body.status ?? response.status } as Problem);
    }
  } catch {
    // not JSON: described below
  }
  return new ConvergeProblemError({
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: text.slice(0, 500) || undefined,
  });
}
