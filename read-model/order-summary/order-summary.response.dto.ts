import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MoneyView } from '../query-api/view.openapi';

export const ORDER_STATUSES = ['pending', 'stock_reserved', 'paid', 'confirmed', 'shipped', 'rejected', 'cancelled'];

/** A line as placed: name and unit price are the catalog's at placement. */
export class OrderLineView {
  @ApiProperty({ example: 'MUG-001' })
  sku!: string;

  @ApiProperty({ example: 'Enamel mug' })
  name!: string;

  @ApiProperty({ type: 'integer', minimum: 1, example: 2 })
  quantity!: number;

  @ApiProperty({ type: MoneyView })
  unitPrice!: MoneyView;

  @ApiProperty({ type: MoneyView })
  lineTotal!: MoneyView;
}

export class TimelineEntryView {
  @ApiProperty({ type: 'string', format: 'date-time' })
  at!: string;

  @ApiProperty({ description: 'the event that moved the order', example: 'OrderConfirmed' })
  event!: string;

  @ApiProperty({ enum: ORDER_STATUSES, description: 'the status after the event' })
  status!: string;

  @ApiPropertyOptional({ example: 'payment declined' })
  reason?: string;
}

export class PaymentView {
  @ApiProperty({ enum: ['none', 'authorized', 'declined', 'captured', 'refunded'] })
  status!: string;

  @ApiPropertyOptional()
  authorizationId?: string;

  @ApiPropertyOptional({ type: MoneyView })
  amount?: MoneyView;
}

/** An order with its lines, total, status and timeline (OrderSummaryView). */
export class OrderSummaryResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'cust-42' })
  customerId!: string;

  @ApiProperty({ type: [OrderLineView] })
  lines!: OrderLineView[];

  @ApiProperty({ type: MoneyView })
  total!: MoneyView;

  @ApiProperty({ enum: ORDER_STATUSES })
  status!: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'why the order is rejected or cancelled, or its payment declined' })
  statusReason!: string | null;

  @ApiProperty({ type: [TimelineEntryView] })
  timeline!: TimelineEntryView[];

  @ApiProperty({ type: PaymentView })
  payment!: PaymentView;

  @ApiProperty({ type: 'string', format: 'date-time' })
  placedAt!: string;

  @ApiProperty({ type: 'integer', minimum: 1, description: "the order's version (its ETag)" })
  version!: number;
}
