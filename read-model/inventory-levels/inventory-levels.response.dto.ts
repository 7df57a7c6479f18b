import { ApiProperty } from '@nestjs/swagger';

/** Stock levels of one sku (InventoryView). */
export class InventoryLevelResponse {
  @ApiProperty({ example: 'MUG-001' })
  sku!: string;

  @ApiProperty({ type: 'integer', example: 25 })
  onHand!: number;

  @ApiProperty({ type: 'integer', example: 2 })
  reserved!: number;

  @ApiProperty({ type: 'integer', description: 'on hand less reserved', example: 23 })
  available!: number;

  @ApiProperty({ description: 'available at or below the low-stock threshold' })
  lowStock!: boolean;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'stock events recorded for the sku' })
  movements!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: "the stock's version (its ETag); 0 before any stock event" })
  version!: number;

  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: string;
}
