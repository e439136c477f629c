import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { InteractionDirections, InteractionTypes } from '@chronicle/domain';
import { ATTRIBUTES_LIMITS, FreeFormObject } from '../http/body-shape';
import { CreateCommandDto, IsEmailAddress, IsSlug, NAME_MAX, RevisionedCommandDto, TEXT_MAX } from '../http/dto';
import { IsId } from '../http/ids';
import { ArchiveDto } from '../http/archive.dto';

const finite = { allowNaN: false, allowInfinity: false };

export class RegisterCustomerDto extends CreateCommandDto {
  @ApiProperty({ example: 'Ada Lovelace' }) @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) name!: string;
  @ApiPropertyOptional({ example: 'ada@example.com' }) @IsOptional() @IsEmailAddress() @MaxLength(NAME_MAX) email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(50) phone?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(NAME_MAX) company?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) industry?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) region?: string;
  @ApiPropertyOptional({ description: 'Acquisition channel (slug); default "direct"', example: 'web' })
  @IsOptional()
  @IsSlug()
  @MaxLength(64)
  source?: string;
  @ApiPropertyOptional({ description: 'Owner (a user id); default the caller' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  ownerId?: string;
  @IsOptional() @FreeFormObject(ATTRIBUTES_LIMITS) attributes?: Record<string, unknown>;
}

export class UpdateCustomerDto extends RevisionedCommandDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsEmailAddress() @MaxLength(NAME_MAX) email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(50) phone?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(NAME_MAX) company?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) industry?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) region?: string;
  @ApiPropertyOptional({ description: 'Reassigns the owner' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  ownerId?: string;
  @IsOptional() @FreeFormObject(ATTRIBUTES_LIMITS) attributes?: Record<string, unknown>;
}

/** A new owner (a user id): `POST /customers/:id/owner`, `POST /deals/:id/owner`. */
export class AssignOwnerDto extends RevisionedCommandDto {
  @ApiProperty({ example: 'rep-ada' }) @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) ownerId!: string;
}

export class ChurnCustomerDto extends RevisionedCommandDto {
  @ApiProperty({ example: 'moved to a competitor' }) @IsString() @IsNotEmpty() @MaxLength(TEXT_MAX) reason!: string;
}

export class ReactivateCustomerDto extends RevisionedCommandDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(TEXT_MAX) reason?: string;
}

export class RecordPurchaseDto extends RevisionedCommandDto {
  @ApiPropertyOptional({ description: 'Purchase id (UUID); generated when absent' }) @IsOptional() @IsId() id?: string;
  @ApiProperty({ example: 1200, description: 'Finite, ≥ 0, in the deployment currency' })
  @IsNumber(finite)
  @Min(0)
  @Max(1e15)
  amount!: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(TEXT_MAX) description?: string;
}

export class LogInteractionDto extends RevisionedCommandDto {
  @ApiPropertyOptional({ description: 'Interaction id (UUID); generated when absent' }) @IsOptional() @IsId() id?: string;
  @ApiProperty({ enum: InteractionTypes }) @IsIn(InteractionTypes) type!: (typeof InteractionTypes)[number];
  @ApiProperty({ enum: InteractionDirections }) @IsIn(InteractionDirections) direction!: (typeof InteractionDirections)[number];
  @ApiProperty({ example: 'Discovery call' }) @IsString() @IsNotEmpty() @MaxLength(500) subject!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(TEXT_MAX) outcome?: string;
  @ApiPropertyOptional() @IsOptional() @IsNumber(finite) @Min(0) @Max(100000) durationMinutes?: number;
  @ApiPropertyOptional() @IsOptional() @IsId() dealId?: string;
}

export class AsOfQuery {
  @ApiPropertyOptional({ description: 'ISO 8601 instant: the state folded from events that occurred at or before it' })
  @IsOptional()
  @IsISO8601({ strict: true })
  asOf?: string;
}

/** `POST /customers/:id/merge` (docs/merging.md): the customer is a duplicate of `intoId`, which survives. */
export class MergeCustomerDto extends ArchiveDto {
  @ApiProperty({ description: 'the surviving customer', example: '6c1d8a4e-2f0b-4c1e-9a57-3f7f1f0f2a10' })
  @IsId()
  intoId!: string;
}
