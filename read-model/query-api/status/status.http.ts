import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Allowed } from '../../../src/http/access';
import { StatusData } from './status-data';
import { STATUS_PAGE, STATUS_PAGE_POLICY } from './status-page';

/** GET /status: the live status page; GET /status/data: what it polls. For people and scripts, not in the OpenAPI documents. */
@ApiExcludeController()
@Controller('status')
export class StatusController {
  constructor(private readonly data: StatusData) {}

  /** The page itself carries no data, so it needs no token; the data it polls does. */
  @Get()
  @Allowed('GET /status')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @Header('Content-Security-Policy', STATUS_PAGE_POLICY)
  page(): string {
    return STATUS_PAGE;
  }

  @Get('data')
  @Allowed('GET /status/data')
  @Header('Cache-Control', 'no-store')
  read() {
    return this.data.read();
  }
}
