import { Allowed } from './access';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Registry } from 'prom-client';

/** Nest injection token of the process's prom-client registry. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** GET /metrics in the Prometheus text format (not part of the OpenAPI documents: it is for scrapers). */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Allowed('GET /metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }
}
