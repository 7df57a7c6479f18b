import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsOptional, IsString, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { MoneyRequest, SKU_PATTERN } from '../shared/request-dto';

export class RegisterProductRequest {
  @ApiProperty({ example: 'MUG-001', pattern: SKU_PATTERN.source })
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  sku!: string;

  @ApiProperty({ example: 'Enamel mug', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ example: 'Holds 350 ml', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ type: MoneyRequest })
  @IsDefined()
  @ValidateNested()
  @Type(() => MoneyRequest)
  price!: MoneyRequest;
}

export class UpdateProductDetailsRequest {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class ChangeProductPriceRequest {
  @ApiProperty({ type: MoneyRequest })
  @IsDefined()
  @ValidateNested()
  @Type(() => MoneyRequest)
  price!: MoneyRequest;
}
