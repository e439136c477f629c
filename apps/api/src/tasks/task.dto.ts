import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { CreateCommandDto, NAME_MAX, RevisionedCommandDto, TEXT_MAX } from '../http/dto';
import { IsId } from '../http/ids';

export class CreateTaskDto extends CreateCommandDto {
  @ApiPropertyOptional({ description: 'Default: the caller' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  ownerId?: string;
  @ApiProperty({ example: 'Call back about the proposal' }) @IsString() @IsNotEmpty() @MaxLength(500) subject!: string;
  @ApiProperty({ example: '2024-03-04T09:00:00Z' }) @IsISO8601({ strict: true }) dueAt!: string;
  @ApiPropertyOptional() @IsOptional() @IsId() customerId?: string;
  @ApiPropertyOptional() @IsOptional() @IsId() dealId?: string;
  @ApiPropertyOptional() @IsOptional() @IsId() leadId?: string;
}

export class CompleteTaskDto extends RevisionedCommandDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(TEXT_MAX) outcome?: string;
}

/** The fields given replace the task's (at least one; unchanged values append nothing). */
export class UpdateTaskDto extends RevisionedCommandDto {
  @ApiPropertyOptional({ example: 'Send the revised proposal' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(500) subject?: string;
  @ApiPropertyOptional({ example: '2024-03-05T09:00:00Z' }) @IsOptional() @IsISO8601({ strict: true }) dueAt?: string;
}

export class CancelTaskDto extends RevisionedCommandDto {
  @ApiPropertyOptional({ example: 'the customer called first' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(TEXT_MAX)
  reason?: string;
}
