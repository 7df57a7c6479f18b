import { Controller, Get, Header, SetMetadata } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { StatusData } from './status-data';
import { STATUS_PAGE, STATUS_PAGE_POLICY } from './status-page';

/** Roles that may read the operational status once identity lands; its guard reads this metadata. */
export const OPERATOR_ROLES = ['admin', 'support', 'service'] as const;
export const REQUIRED_ROLES = 'converge:required-roles';
/** Marks a route for operators only: the one annotation the identity guard needs. */
export const OperatorsOnly = () => SetMetadata(REQUIRED_ROLES, OPERATOR_ROLES);

/** GET /status: the live status page; GET /status/data: what it polls. For people and scripts, not in the OpenAPI documents. */
@ApiExcludeController()
@Controller('status')
export class StatusController {
  constructor(private readonly data: StatusData) {}

  /** The page itself carries no data, so it needs no token; the data it polls does. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @Header('Content-Security-Policy', STATUS_PAGE_POLICY)
  page(): string {
    return STATUS_PAGE;
  }

  @Get('data')
  @OperatorsOnly()
  @Header('Cache-Control', 'no-store')
  read() {
    return this.data.read();
  }
}
