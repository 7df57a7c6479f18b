import type { Type } from '@nestjs/common';
import type { Projection } from './projector/projection';

/** Settings a projection may depend on (from the environment). */
export interface ProjectionOptions {
  lowStockThreshold: number;
}

/**
 * What one view brings to the read side: the projection that builds it (run by the projector,
 * rebuild and verify) and the HTTP routes that serve it (the query API). The process modules
 * compose these; nothing else lists a view's pieces.
 */
export interface ReadView {
  projection(options: ProjectionOptions): Projection;
  controllers: Type[];
}
