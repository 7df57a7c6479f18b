import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { VIEW_STORE } from './tokens';
import { describe } from './view-response';
import { allProjections } from '../projections';
import type { ViewStore } from '../view-store/view-store';

// Names only: the threshold does not change which projections exist.
export const PROJECTION_NAMES = allProjections({ lowStockThreshold: 0 }).map((p) => p.name);

/** Every projection's position and lag, from the read store alone. */
@ApiTags('projections')
@Controller('projections')
export class ProjectionsController {
  constructor(@Inject(VIEW_STORE) private readonly store: ViewStore) {}

  @Get()
  async list() {
    const checkpoints = new Map((await this.store.checkpoints()).map((c) => [c.projection, c]));
    const now = Date.now();
    return { data: PROJECTION_NAMES.map((name) => describe(name, checkpoints.get(name), now)) };
  }
}
