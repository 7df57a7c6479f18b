import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES } from '../order-summary/order-summary.response.dto';
import { MoneyView } from '../query-api/view.openapi';

/** One order in a customer's list (CustomerOrderView): GET /orders/{id} has the details. */
export class CustomerOrderResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'cust-42' })
  customerId!: string;

  @ApiProperty({ enum: ORDER_STATUSES })
  status!: string;

  @ApiProperty({ type: MoneyView })
  total!: MoneyView;

  @ApiProperty({ type: 'integer', minimum: 1 })
  lineCount!: number;

  @ApiProperty({ type: 'integer', minimum: 1 })
  units!: number;

  @ApiProperty({ type: 'string', format: 'date-time' })
  placedAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: string;
}
