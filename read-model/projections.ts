import type { Projection } from './projector/projection';
import type { ProjectionOptions } from './read-view';
import { readViews } from './views';

/** Every projection the projector runs and the CLI can rebuild, by its fixed name. */
export function allProjections(options: ProjectionOptions): Projection[] {
  return readViews.map((view) => view.projection(options));
}
