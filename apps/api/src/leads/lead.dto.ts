import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { LeadInteractionType, LeadInteractionTypes } from '@chronicle/domain';
import { ATTRIBUTES_LIMITS, FreeFormObject } from '../http/body-shape';
import { CommandDto, CreateCommandDto, IsEmailAddress, IsSlug, NAME_MAX, RevisionedCommandDto, TEXT_MAX } from '../http/dto';
import { IsId } from '../http/ids';

export class CaptureLeadDto extends CreateCommandDto {
  @ApiProperty({ example: 'Grace Hopper' }) @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) name!: string;
  @ApiPropertyOptional() @IsOptional() @IsEmailAddress() @MaxLength(NAME_MAX) email?: string;
  @ApiProperty({ description: 'Where the lead came from (slug)', example: 'webinar' }) @IsSlug() @MaxLength(64) source!: string;
  @ApiPropertyOptional() @IsOptional() @IsId() campaignId?: string;
  @IsOptional() @FreeFormObject(ATTRIBUTES_LIMITS) attributes?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Owner (a user id), assigned on capture; default: the caller when a rep, else unassigned' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  ownerId?: string;
}

export class QualifyLeadDto extends RevisionedCommandDto {}

export class DisqualifyLeadDto extends RevisionedCommandDto {
  @ApiProperty({ example: 'no budget' }) @IsString() @IsNotEmpty() @MaxLength(TEXT_MAX) reason!: string;
}

export class ConvertLeadDto extends RevisionedCommandDto {
  @ApiPropertyOptional({ description: 'An existing customer to convert into; a new customer is registered from the lead when absent' })
  @IsOptional()
  @IsId()
  customerId?: string;
}

export class AssignLeadDto extends RevisionedCommandDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) ownerId!: string;
}

/** Behaviour of a lead (what lead scoring counts): web visits, form submissions, e-mails opened or replied, downloads, … */
export class LogLeadInteractionDto extends CommandDto {
  @ApiPropertyOptional({ description: 'Client-supplied UUID of the interaction' }) @IsOptional() @IsId() id?: string;
  @ApiProperty({ enum: LeadInteractionTypes }) @IsIn(LeadInteractionTypes) type!: LeadInteractionType;
  @ApiPropertyOptional({ example: 'Pricing page' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) subject?: string;
}
