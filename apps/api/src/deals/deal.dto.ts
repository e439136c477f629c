import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CreateCommandDto, IsSlug, NAME_MAX, RevisionedCommandDto, TEXT_MAX } from '../http/dto';
import { IsId } from '../http/ids';

const finite = { allowNaN: false, allowInfinity: false };

export class OpenDealDto extends CreateCommandDto {
  @ApiProperty() @IsId() customerId!: string;
  @ApiProperty({ example: 'Annual licence' }) @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) title!: string;
  @ApiProperty({ example: 24000 }) @IsNumber(finite) @Min(0) @Max(1e15) amount!: number;
  @ApiPropertyOptional({ description: 'Default: the caller' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  ownerId?: string;
  @ApiPropertyOptional({ example: '2024-06-30' }) @IsOptional() @IsISO8601({ strict: true }) expectedCloseDate?: string;
  @ApiPropertyOptional({ description: "Acquisition channel; default the customer's source" })
  @IsOptional()
  @IsSlug()
  @MaxLength(64)
  source?: string;
  @ApiPropertyOptional({ description: 'A pipeline stage; default the first' }) @IsOptional() @IsSlug() @MaxLength(64) stage?: string;
}

export class ChangeStageDto extends RevisionedCommandDto {
  @ApiProperty({ example: 'proposal' }) @IsString() @IsNotEmpty() @MaxLength(64) stage!: string;
}

export class UpdateDealDto extends RevisionedCommandDto {
  @ApiPropertyOptional() @IsOptional() @IsNumber(finite) @Min(0) @Max(1e15) amount?: number;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) expectedCloseDate?: string;
}

export class WinDealDto extends RevisionedCommandDto {}

export class LoseDealDto extends RevisionedCommandDto {
  @ApiProperty({ example: 'price' }) @IsString() @IsNotEmpty() @MaxLength(TEXT_MAX) reason!: string;
}

/** `POST /deals/:id/reopen` (issue 16): managers and admins. */
export class ReopenDealDto extends RevisionedCommandDto {
  @ApiPropertyOptional({ description: 'A pipeline stage; default the one the deal closed from', example: 'proposal' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  stage?: string;
  @ApiPropertyOptional({ example: 'customer came back' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(TEXT_MAX) reason?: string;
}
