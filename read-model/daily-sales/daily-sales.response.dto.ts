import { ApiProperty } from '@nestjs/swagger';

const REVENUE = {
  type: 'object',
  additionalProperties: { type: 'integer' },
  description: 'minor units per currency',
  example: { EUR: 12999 },
} as const;

export class SkuSales {
  @ApiProperty({ example: 'MUG-001' })
  sku!: string;

  @ApiProperty({ type: 'integer' })
  units!: number;

  @ApiProperty(REVENUE)
  revenue!: Record<string, number>;
}

/** One UTC day of confirmed sales (DailySalesView). */
export class DailySalesResponse {
  @ApiProperty({ type: 'string', format: 'date', example: '2026-11-01' })
  day!: string;

  @ApiProperty({ type: 'integer', description: 'confirmed orders, less confirmed orders cancelled that day' })
  orders!: number;

  @ApiProperty({ type: 'integer' })
  units!: number;

  @ApiProperty(REVENUE)
  revenue!: Record<string, number>;

  @ApiProperty({ type: 'integer', minimum: 0 })
  cancelledOrders!: number;

  @ApiProperty({ type: [SkuSales] })
  skus!: SkuSales[];
}

/** The sums over the days of the report. */
export class DailySalesTotals {
  @ApiProperty({ type: 'integer' })
  orders!: number;

  @ApiProperty({ type: 'integer' })
  units!: number;

  @ApiProperty(REVENUE)
  revenue!: Record<string, number>;
}
