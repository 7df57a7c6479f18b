import { ApiProperty } from '@nestjs/swagger';
import { ViewLag } from './view.openapi';

/** One projection's position and lag. */
export class ProjectionStatusResponse {
  @ApiProperty({ enum: ['product-catalog', 'inventory-levels', 'order-summary', 'customer-orders', 'daily-sales'] })
  projection!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'global position of the last event applied (0: none yet)' })
  position!: number;

  @ApiProperty({ type: ViewLag })
  lag!: ViewLag;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, description: 'when its checkpoint last moved' })
  updatedAt!: string | null;
}

export class ProjectionsResponse {
  @ApiProperty({ type: [ProjectionStatusResponse] })
  data!: ProjectionStatusResponse[];
}
