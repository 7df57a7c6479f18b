import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsObject, IsString, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { CleanText, OptionalField, VisibleText } from '../../src/http/validation';
import { MoneyRequest, SKU_PATTERN } from '../shared/request-dto';

export class RegisterProductRequest {
  // Not a demo-catalog sku: the docs page's default request registers a product that does not exist yet.
  @ApiProperty({ example: 'LAMP-01', pattern: SKU_PATTERN.source })
  @IsString()
  @CleanText()
  @Matches(SKU_PATTERN, { message: 'sku must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  sku!: string;

  @ApiProperty({ example: 'Desk lamp', minLength: 1, maxLength: 200 })
  @IsString()
  @CleanText()
  @VisibleText()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ example: 'LED, warm white', maxLength: 2000 })
  @OptionalField()
  @IsString()
  @CleanText()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ type: MoneyRequest })
  @IsDefined()
  @IsObject({ message: 'price must be an object { amount, currency }' })
  @ValidateNested()
  @Type(() => MoneyRequest)
  price!: MoneyRequest;
}

export class UpdateProductDetailsRequest {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @OptionalField()
  @IsString()
  @CleanText()
  @VisibleText()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @OptionalField()
  @IsString()
  @CleanText()
  @MaxLength(2000)
  description?: string;
}

export class ChangeProductPriceRequest {
  @ApiProperty({ type: MoneyRequest })
  @IsDefined()
  @IsObject({ message: 'price must be an object { amount, currency }' })
  @ValidateNested()
  @Type(() => MoneyRequest)
  price!: MoneyRequest;
}
