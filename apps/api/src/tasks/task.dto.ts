import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { CreateCommandDto, NAME_MAX, RevisionedCommandDto, TEXT_MAX } from '../http/dto';

export class CreateTaskDto extends CreateCommandDto {
  @ApiPropertyOptional({ description: 'Default: the caller' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) ownerId?: string;
  @ApiProperty({ example: 'Call back about the proposal' }) @IsString() @IsNotEmpty() @MaxLength(500) subject!: string;
  @ApiProperty({ example: '2024-03-04T09:00:00Z' }) @IsISO8601({ strict: true }) dueAt!: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() customerId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() dealId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() leadId?: string;
}

export class CompleteTaskDto extends RevisionedCommandDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(TEXT_MAX) outcome?: string;
}
